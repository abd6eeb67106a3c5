"""Everything the command line decided, checked once, in one object."""
from __future__ import annotations

import os
import re
from .record import mutable

from .errors import UsageError

SYSTEMTAP_VERSION = "5.3"  # the language level ftstap implements

# stap's limits and their defaults; -D NAME=VALUE overrides them.
DEFAULT_LIMITS = {
    "MAXACTION": 1000, "MAXMAPENTRIES": 2048, "MAXSTRINGLEN": 512, "MAXERRORS": 0,
    "MAXSKIPPED": 100, "MAXBACKTRACE": 20, "MAXNESTING": 10, "MAXTRYLOCK": 1000,
    "HIST_ELISION": 2,
}
_I64 = (1 << 63) - 1
# The values each limit may take (what the runtime, native/ctx.c, accepts).
LIMIT_RANGES = {
    "MAXACTION": (1, _I64), "MAXMAPENTRIES": (1, 1 << 30), "MAXSTRINGLEN": (2, 1 << 24),
    "MAXERRORS": (0, _I64), "MAXSKIPPED": (0, _I64), "MAXBACKTRACE": (0, _I64),
    "MAXNESTING": (0, 10000), "MAXTRYLOCK": (0, _I64), "HIST_ELISION": (0, _I64),
}


@mutable
class Options:
    script_text: str | None = None      # from -e
    script_file: str | None = None      # FILE or "-"
    args: list[str] = []
    last_pass: int = 5
    verbose: int = 0
    keep: bool = False
    no_warnings: bool = False
    warnings_errors: bool = False
    unoptimized: bool = False
    guru: bool = False
    defines: dict[str, str] = {}
    include: list[str] = []
    globals_: dict[str, str] = {}
    output: str | None = None
    size_limit: str | None = None       # -S SIZE[,N]: rotate -o FILE (runtime/outputs.py)
    command: str | None = None
    target_pid: int | None = None
    timeout: float | None = None
    buffer_mb: int | None = None
    bulk: bool = False
    timing: bool = False
    http: str | None = None             # --http ADDR:PORT: serve procfs probes (runtime/sidecar.py)
    target_namespaces: int | None = None  # --target-namespaces=PID: ns_pid() & co. (runtime/namespaces.py)
    module_name: str | None = None
    list_probes: str | None = None
    list_probes_vars: str | None = None
    show_version: bool = False
    dump_probe_types: bool = False
    dump_functions: bool = False
    compatible: str | None = None
    example: bool = False           # --example: the script is one of ftstap's examples/ (lang/library.py)
    check_version: bool = False     # warn of what depends on the SystemTap version (sema/versions.py)
    suppress_handler_errors: bool = False
    probe_support: bool = False
    list_active: bool = False
    run_image: str | None = None
    kernel: str | None = None             # -r: a kernel description (kernel/kinfo.py) or release
    sysroot: str | None = None            # --sysroot: the target's files (kernel/symbols.py)
    describe: bool = False
    disable_cache: bool = False
    poison_cache: bool = False
    clean_cache: bool = False
    skip_badvars: bool = False          # unknown $vars read as 0 (sema/badvars.py)
    symtabs: list[str] = []             # -d FILE: accepted; every mapped file's symbols are read anyway
    ldd: bool = False                   # --ldd: likewise

    @property
    def systemtap_version(self) -> str:
        return self.compatible or SYSTEMTAP_VERSION

    @property
    def warnings_fatal(self) -> bool:
        """-W without -w: as stap, a suppressed warning is never printed, so never an error."""
        return self.warnings_errors and not self.no_warnings

    def limit(self, name: str) -> int:
        value = self.defines.get(name)
        return int(value, 0) if value is not None else DEFAULT_LIMITS[name]

    @classmethod
    def from_cli(cls, kw: dict) -> "Options":
        o = cls()
        scripts = kw.pop("scripts")
        words = list(kw.pop("words"))
        for key in ("prologue_searching", "suppress_time_limits", "all_modules", "rlimit_as", "rlimit_cpu",
                    "rlimit_nproc", "rlimit_stack", "rlimit_fsize"):
            kw.pop(key, None)
        for key, value in kw.items():
            if key in ("defines", "globals_"):
                setattr(o, key, _pairs(value, "-D" if key == "defines" else "-G"))
            elif key == "include":
                o.include = list(value)
            elif value is not None:
                setattr(o, key, value)
        if len(scripts) > 1:
            raise UsageError("only one -e SCRIPT may be given")
        if scripts:
            o.script_text = scripts[0]
            o.args = words
        elif words:
            o.script_file, o.args = words[0], words[1:]
        o.check()
        return o

    def wants_script(self) -> bool:
        return not (self.show_version or self.dump_probe_types or self.dump_functions
                    or self.probe_support or self.list_active or self.run_image or self.describe
                    or self.list_probes or self.list_probes_vars or self.clean_cache)

    def check(self) -> None:
        if not 1 <= self.last_pass <= 5:
            raise UsageError(f"-p expects a pass number from 1 to 5, not {self.last_pass}")
        if self.buffer_mb is not None and not 1 <= self.buffer_mb <= 4095:
            raise UsageError(f"-s expects a buffer size from 1 to 4095 MB, not {self.buffer_mb}")
        if self.module_name is not None and not re.fullmatch(r"[A-Za-z0-9_]{1,60}", self.module_name):
            raise UsageError("-m expects a name of 1 to 60 characters from [A-Za-z0-9_]")
        if self.size_limit is not None:
            if self.output is None:
                raise UsageError("-S needs an output file: -o FILE")
            if self.bulk:
                raise UsageError("-S cannot be used with -b in ftstap (rotating per-CPU files is not implemented)")
            if int(self.size_limit.split(",")[0]) == 0:
                raise UsageError("-S expects a file size of at least 1 MB")
        if self.command is not None and self.target_pid is not None:
            raise UsageError("-c and -x cannot be used together")
        if self.timeout is not None and self.timeout <= 0:
            raise UsageError("-T expects a positive number of seconds")
        for name, value in self.defines.items():
            if name in LIMIT_RANGES:
                _check_limit(name, value)
        tmp = os.environ.get("TMPDIR")
        if tmp and not os.path.isdir(tmp):
            raise UsageError(f"TMPDIR={tmp} is not a directory")
        if self.wants_script() and self.script_text is None and self.script_file is None:
            raise UsageError("no script given: pass a FILE, '-' for stdin, or -e SCRIPT")


def _check_limit(name: str, value: str) -> None:
    low, high = LIMIT_RANGES[name]
    try:
        n = int(value, 0)
    except ValueError:
        n = None
    if n is None or not low <= n <= high:
        raise UsageError(f"-D {name} expects a number from {low} to {high}, not {value!r}")


def _pairs(values, flag: str) -> dict[str, str]:
    out = {}
    for v in values:
        name, eq, value = v.partition("=")
        if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UsageError(f"{flag} expects NAME=VALUE, not {v!r}")
        out[name] = value if eq else "1"
    return out
