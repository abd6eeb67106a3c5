"""The `ftstap` command: stap's flags, mapped onto ftstap's passes.

This is the only module that turns errors into messages and exit codes."""
from __future__ import annotations

import os
import re
import sys

from . import __version__
from .errors import FtstapError
from .cmdline import CommandLineError, Opt, help_text, parse
from .options import Options

EXAMPLES = """
Examples:
  ftstap -e 'probe begin { println("hello"); exit() }'
  ftstap -p1 script.stp                 # parse only; print the parsed script
  ftstap -e 'global n; probe syscall.* { n[name]++ }' -T 5
  ftstap script.stp arg1 arg2           # $1/@1 in the script are arg1
  echo 'probe begin { exit() }' | ftstap -
  ftstap -b -o trace -T 5 script.stp    # trace_0, trace_1, ...: stap-merge trace_*
  ftstap -o trace -S 10,5 script.stp    # trace.0, trace.1, ...: 10 MB each, the last 5 kept
  ftstap-run --describe > box.kinfo     # on the target (or ftstap --describe there)
  ftstap -r box.kinfo -p4 -m top s.stp  # here: top.ftsimg for it; there: ftstap-run top.ftsimg
  ftstap -r arm.kinfo --sysroot /srv/armroot -p4 -m app app.stp   # uprobes in the board's programs
"""

_NOT_FOR_FTSTAP = {
    "-R": "ftstap has no runtime directory: its runtime is built into the package",
    "--runtime": "ftstap has one runtime (tracefs + perf_event + its own VM); stap's module/dyninst/bpf runtimes do not apply",
}


def _size_option(value: str) -> str:
    if not re.fullmatch(r"[0-9]+(,[0-9]+)?", value):
        raise CommandLineError("expects SIZE[,N]: megabytes per file, and how many files to keep")
    return value


def _number(value: str) -> str:
    if not re.fullmatch(r"[0-9]+", value):
        raise CommandLineError("expects a number")
    return value


def _prologue(value: str) -> str:
    if value not in ("always", "never", "auto"):
        raise CommandLineError("expects always, never or auto")
    return value


DESCRIPTION = ("Run a SystemTap script on tracefs and perf_event, with no compiler, "
               "no kernel headers and no kernel module.")

OPTIONS = [
    Opt(("-e",), "scripts", "Run SCRIPT given on the command line.", "SCRIPT", "multi"),
    Opt(("-p",), "last_pass", "Stop after pass NUM (1-5).", "NUM", "int"),
    Opt(("-v",), "verbose", "More verbose; repeat for more.", kind="count"),
    Opt(("-k",), "keep", "Keep the pass-4 program image.", kind="flag"),
    Opt(("-w",), "no_warnings", "Suppress warnings.", kind="flag"),
    Opt(("-W",), "warnings_errors", "Treat warnings as errors.", kind="flag"),
    Opt(("-u",), "unoptimized", "Unoptimized: keep unused symbols.", kind="flag"),
    Opt(("-g",), "guru", "Guru mode: allow embedded C (parsed, never run) and raw registers.", kind="flag"),
    Opt(("-D",), "defines", "Set a limit, e.g. -D MAXACTION=10000.", "NAME=VALUE", "multi"),
    Opt(("-I",), "include", "Also look for tapsets in DIR.", "DIR", "multi"),
    Opt(("-G",), "globals_", "Set a global variable.", "VAR=VALUE", "multi"),
    Opt(("-o",), "output", "Write output to FILE (strftime(3) formats expanded).", "FILE"),
    Opt(("-S",), "size_limit", "With -o FILE: write FILE.0, FILE.1, ..., each at most SIZE MB, keeping the "
        "last N files if N is given (switch_file() also moves on to the next file).", "SIZE[,N]",
        check=_size_option),
    Opt(("-c",), "command", "Run CMD once probes are armed; exit when it exits. "
        "CMD is split into words as a shell would (quotes, $VARS, globs) and exec'd, so target() "
        "is the command; with |&;<>(){} it runs under /bin/sh -c.", "CMD"),
    Opt(("-x",), "target_pid", "Set target() to PID.", "PID", "int"),
    Opt(("-T",), "timeout", "Exit after SECONDS.", "SECONDS", "float"),
    Opt(("-s",), "buffer_mb", "Per-CPU buffer size in MB.", "MB", "int"),
    Opt(("-b",), "bulk", "Bulk mode: one output file per CPU, FILE_N with -o FILE, else stpd_cpuN; "
                         "each handler's output goes to its CPU's file, framed for stap-merge.", kind="flag"),
    Opt(("-t",), "timing", "Report per-probe hit counts and handler time.", kind="flag"),
    Opt(("--http",), "http", "Serve the procfs probes over HTTP on ADDR:PORT (PORT alone: loopback): "
        "GET /procfs/NAME reads, PUT/POST writes, GET /metrics is the prometheus probe.", "ADDR:PORT"),
    Opt(("--target-namespaces",), "target_namespaces", "ns_pid(), ns_tid(), ns_uid()... answer in the pid "
        "and user namespaces of process PID (a container's) instead of ftstap's own.", "PID", "int"),
    Opt(("-m",), "module_name", "Name the program image.", "NAME"),
    Opt(("-l",), "list_probes", "List probe points matching PROBE.", "PROBE"),
    Opt(("-L",), "list_probes_vars", "List matching probe points with their variables.", "PROBE"),
    Opt(("-V", "--version"), "show_version", "Show the version.", kind="flag"),
    Opt(("--dump-probe-types",), "dump_probe_types", "List the supported probe point families.", kind="flag"),
    Opt(("--dump-functions",), "dump_functions", "List the tapset functions.", kind="flag"),
    Opt(("--compatible",), "compatible", "Behave like SystemTap VERSION.", "VERSION"),
    Opt(("--suppress-handler-errors",), "suppress_handler_errors", "Ignore run-time errors in handlers.",
        kind="flag"),
    Opt(("--probe-support",), "probe_support", "Print what this kernel can serve.", kind="flag"),
    Opt(("--list-active",), "list_active", "Show the kernel events ftstap sessions hold: address, type "
        "(k kprobe, r return probe, u uprobe, t tracepoint, e eprobe), place, owning pid.", kind="flag"),
    Opt(("--run",), "run_image", "Run a program image made by -p4.", "IMAGE"),
    Opt(("-r",), "kernel", "Compile for the kernel FILE describes (written there by `ftstap-run --describe` "
        "or `ftstap --describe`); stop at -p4 and run the image there. A release name must be the "
        "running kernel's.", "FILE"),
    Opt(("--sysroot",), "sysroot", "Read the programs process(\"PATH\") probes name from DIR (the target's "
        "root file system, with -r): process(\"/bin/ls\") reads DIR/bin/ls, whose uprobes are /bin/ls there.",
        "DIR"),
    Opt(("--describe",), "describe", "Write this kernel's description, for -r on another machine, to "
        "standard output.", kind="flag"),
    Opt(("--disable-cache",), "disable_cache", "Neither use nor fill the cache of compiled programs.",
        kind="flag"),
    Opt(("--poison-cache",), "poison_cache", "Compile again and replace the cached program.", kind="flag"),
    Opt(("--clean-cache",), "clean_cache", "Empty the cache of compiled programs, then exit.", kind="flag"),
    Opt(("--example",), "example", "The SCRIPT argument names one of the example scripts shipped with "
        "ftstap (examples/ in its source): `ftstap --example helloworld.stp`.", kind="flag"),
    Opt(("--skip-badvars",), "skip_badvars", "Read context variables the probe point does not have as 0 "
        "instead of failing.", kind="flag"),
    Opt(("-d",), "symtabs", "Accepted for stap compatibility: symbols of every file a process maps are read "
        "when needed (backtraces, usymname), so naming FILE adds nothing.", "FILE", "multi"),
    Opt(("--ldd",), "ldd", "Accepted for stap compatibility (libraries' symbols are read as for -d).",
        kind="flag"),
    Opt(("--check-version",), "check_version", "Warn of probe points whose variables depend on the SystemTap "
        "version (stap's tapset defines some only up to a release; --compatible selects one).", kind="flag"),
    Opt(("--all-modules",), "all_modules", "Accepted for stap compatibility: there are no kernel modules to "
        "add symbols for (kernel symbols come from /proc/kallsyms).", kind="flag"),
    Opt(("--prologue-searching",), "prologue_searching", "Accepted for stap compatibility (always/never/auto).",
        "WHEN", optional_value="auto", check=_prologue),
    Opt(("--suppress-time-limits",), "suppress_time_limits", "Accepted for stap compatibility.", kind="flag"),
    Opt(("--rlimit-as",), "rlimit_as", "Limit the address space.", "N", check=_number),
    Opt(("--rlimit-cpu",), "rlimit_cpu", "Limit CPU time.", "N", check=_number),
    Opt(("--rlimit-nproc",), "rlimit_nproc", "Limit processes.", "N", check=_number),
    Opt(("--rlimit-stack",), "rlimit_stack", "Limit the stack.", "N", check=_number),
    Opt(("--rlimit-fsize",), "rlimit_fsize", "Limit file size.", "N", check=_number),
    Opt(("-h", "--help"), "help", "Show this message and exit.", kind="flag"),
]


def command(argv: list[str]) -> int:
    kw, words = parse(OPTIONS, argv)
    if kw.pop("help"):
        sys.stdout.write(help_text("ftstap", "[OPTIONS] [SCRIPT | -e SCRIPT] [ARGS]...", DESCRIPTION,
                                   OPTIONS, EXAMPLES))
        return 0
    kw["words"] = words
    if kw["last_pass"] is None:
        kw.pop("last_pass")
    opts = Options.from_cli(kw)
    if opts.show_version:
        print(f"ftstap {__version__}: SystemTap-compatible tracer "
              f"(language of SystemTap {opts.systemtap_version}), tracefs + perf_event runtime")
        return 0
    from .driver import run
    return run(opts)


RECURSION_LIMIT = 20000     # see main(); bench/scriptfuzz.py compiles under the same


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Pass 1 and the -p1 printer recurse once per nesting level of the script
    # (up to 500 levels, ~22 frames each): the default limit of 1000 is too low.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    for arg in argv:
        key = arg.split("=", 1)[0]
        if key in _NOT_FOR_FTSTAP:
            _err(f"ftstap: option '{key}' is not supported: {_NOT_FOR_FTSTAP[key]}")
            sys.exit(1)
        if arg == "--":
            break
    from .runtime import signals
    signals.install()      # from here on every signal that would kill ftstap ends it cleanly
    try:
        sys.exit(command(argv))
    except CommandLineError as e:
        _err(f"ftstap: {e}")
        _err("Try 'ftstap -h' for help.")
        sys.exit(1)
    except FtstapError as e:
        _err(e.render())
        sys.exit(1)
    except RecursionError:
        _err("ftstap: error: the script is nested too deeply")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:              # `ftstap -p3 ... | head`: the reader left; so do we, quietly
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        sys.exit(141)
    except signals.Interrupted as e:      # before the session ran: what it made is removed
        sys.exit(e.status)
    except Exception as e:  # a bug in ftstap: one clear line, the details on request
        if os.environ.get("FTSTAP_DEBUG"):
            raise
        _err(f"ftstap: internal error: {type(e).__name__}: {e} "
             f"(set FTSTAP_DEBUG=1 for the traceback, and please report it)")
        sys.exit(2)


if __name__ == "__main__":
    main()
