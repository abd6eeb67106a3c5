"""argc, argv[N] and argv_1 ... argv_32 (stap's argv tapset): the script's
command-line arguments as data, for scripts that loop over them.

The tapset library is parsed once and cached without any script's
arguments, so these globals are written for each run from the arguments
themselves (a library script), and only when the user's script names one
of them; the begin probe that fills argv[] joins the user's probes, as a
library script's probes do not run.  An argument not given is ""
(argv[N] has no entry for it)."""
from __future__ import annotations

from . import ast as A

MAX_ARGS = 32
NAMES = frozenset(["argc", "argv"] + [f"argv_{i}" for i in range(1, MAX_ARGS + 1)])


def wanted(script: A.Script) -> set[str]:
    """Which of argc, argv, argv_N the user's script names (arrays too)."""
    return {n.name for n in A.walk(script) if isinstance(n, A.Symbol) and n.name in NAMES}


def _quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def argv_tapset(args: list[str]) -> tuple[str, str]:
    """(the globals, as a library script; the probe filling argv[])"""
    lines = [f"global argc = {len(args)}"]
    for i in range(1, MAX_ARGS + 1):
        lines.append(f"global argv_{i} = {_quoted(args[i - 1]) if i <= len(args) else chr(34) * 2}")
    lines.append("global argv")
    fill = [f"argv[{i}] = argv_{i}" for i in range(1, min(len(args), MAX_ARGS) + 1)]
    fill = fill or ['argv[1] = ""', "delete argv"]            # no arguments: empty, but of strings
    return "\n".join(lines) + "\n", "probe begin(-9223372036854775808) { " + " ".join(fill) + " }\n"
