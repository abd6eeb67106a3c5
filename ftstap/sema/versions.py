"""--compatible and --check-version for the variables stap's tapset defines
only up to some SystemTap release (`%( systemtap_v <= "2.5" %? ... %)` in
stap's own tapset; `VAR<=VERSION=EXPR` in ftstap's syscall table).

A probe point's source names such variables in `version_gates`.  Under a
language version newer than a variable's last release its assignment is
dropped from the prologue, so the script sees what that release's tapset
defined (an unknown name is then a plain local, as in stap).  With
--check-version every probe point whose variables depend on the version
gets a warning, as stap warns of version-dependent tapset elements it
parsed; -W makes that fatal."""
from __future__ import annotations

from ..lang import ast as A
from ..lang.preprocess import _vercmp
from .checks import _warning


def apply_version_gates(source, language: str, check: bool, loc) -> str | None:
    """Drop what `language` does not define; the --check-version warning, if any."""
    gates = source.version_gates
    if not gates:
        return None
    gone = {var for var, until in gates.items() if _vercmp(language, until) > 0}
    if gone and source.prologue is not None:
        source.prologue = A.Block(tuple(s for s in source.prologue.body if _assigned(s) not in gone))
    if not check:
        return None
    by_release: dict[str, list[str]] = {}
    for var, until in sorted(gates.items()):
        by_release.setdefault(until, []).append(var)
    what = "; ".join(f"{', '.join(vs)} only up to SystemTap {r}" for r, vs in sorted(by_release.items()))
    return _warning(f"{source.pp}: its variables depend on the SystemTap version ({what}; "
                    f"this script is compiled as {language}) [--check-version]", loc)


def _assigned(stmt) -> str | None:
    """The variable a prologue statement `VAR = EXPR` sets."""
    if isinstance(stmt, A.ExprStmt) and isinstance(stmt.expr, A.Assign) and isinstance(stmt.expr.target, A.Symbol):
        return stmt.expr.target.name
    return None
