"""procfs("NAME").read / .write [.maxsize(N)] [.umask(M)]: stap's files under
/proc/systemtap/MODULE/, served by ftstap itself (native/http.c: over
--http and the per-session Unix socket, runtime/sidecar.py).

A read probe's handler sets the file's content through `$value` (`=` and
`.=`, never read); a write probe's handler reads the text written as
`$value` (never assigned).  Pass 2 rewrites those uses into the builtins
_procfs_set_value / _procfs_append_value / _procfs_value (rewrite_value),
so no later pass knows about $value (probes/procfs_value.py)."""
from __future__ import annotations

from ..errors import SemanticError
from .base import ContextVar, EventSource, Provider, arg_of
from .grammar import Grammar
from .targets import ProcfsTarget

DEFAULT_FILE = "command"       # stap's name for procfs without one
MAX_MAXSIZE = 64 << 20         # what native/http.c will ever buffer

_HEADS = ("procfs", "procfs(string)", "procfs.umask(number)", "procfs(string).umask(number)")


def _signed(v):
    return v - (1 << 64) if isinstance(v, int) and v >= 1 << 63 else v


def check_name(name: str, loc) -> None:
    """A relative path of plain components, as stap requires."""
    parts = name.split("/")
    if not name or name.startswith("/") or name.endswith("/") or any(p in ("", ".", "..") for p in parts):
        raise SemanticError(f"procfs path '{name}' is invalid: it must be relative, without empty, "
                            f"'.' or '..' components", loc)
    if any(ord(c) < 32 or c in "\\?#%" for c in name):
        raise SemanticError(f"procfs path '{name}' has a character ftstap cannot serve", loc)


class ProcfsProvider(Provider):
    grammar = Grammar(tuple(f"{h}.read[.maxsize(number)]" for h in _HEADS) +
                      tuple(f"{h}.write" for h in _HEADS))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None:
            return None
        head = comps[0]
        if m.wrong:
            c = m.wrong[0]
            raise SemanticError(f"{c.name} takes a {'string' if c.name == 'procfs' else 'number'}", c.loc)
        name = arg_of(head) if head.arg is not None else DEFAULT_FILE
        check_name(name, head.loc)
        write = "write" in m
        umask = -1
        if "umask" in m:
            umask = _signed(m["umask"])
            if not 0 <= umask <= 0o777:
                raise SemanticError(f"umask must be between 0 and 0777, not {umask}", m.comp("umask").loc)
        maxsize = 0
        if "maxsize" in m:
            maxsize = _signed(m["maxsize"])
            if not 0 < maxsize <= MAX_MAXSIZE:
                raise SemanticError(f"maxsize must be between 1 and {MAX_MAXSIZE}, not {maxsize}",
                                    m.comp("maxsize").loc)
        pp = f'procfs("{name}")' + (f".umask({umask:#o})" if umask >= 0 else "") + \
            (".write" if write else ".read") + (f".maxsize({maxsize})" if maxsize else "")
        value = ContextVar("value", "string", "string")
        return [EventSource(ProcfsTarget(name, write, maxsize, umask), pp, context={"value": value})]

    def listing(self, features):
        return ['procfs("NAME").read', 'procfs("NAME").write']
