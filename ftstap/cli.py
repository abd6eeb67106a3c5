"""The `ftstap` command: stap's flags, mapped onto ftstap's passes.

This is the only module that turns errors into messages and exit codes."""
from __future__ import annotations

import os
import re
import sys

import click

from . import __version__
from .errors import FtstapError, UsageError
from .options import Options

EXAMPLES = """
\b
Examples:
  ftstap -e 'probe begin { println("hello"); exit() }'
  ftstap -p1 script.stp                 # parse only; print the parsed script
  ftstap -e 'global n; probe syscall.* { n[name]++ }' -T 5
  ftstap script.stp arg1 arg2           # $1/@1 in the script are arg1
  echo 'probe begin { exit() }' | ftstap -
  ftstap -b -o trace -T 5 script.stp    # trace_0, trace_1, ...: stap-merge trace_*
"""

_NOT_FOR_FTSTAP = {
    "-r": "ftstap always targets the running kernel: there is no module to cross-compile",
    "-R": "ftstap has no runtime directory: its runtime is built into the package",
    "--runtime": "ftstap has one runtime (tracefs + perf_event + its own VM); stap's module/dyninst/bpf runtimes do not apply",
}


def _rlimit(ctx, param, value):
    if value is not None and not re.fullmatch(r"[0-9]+", value):
        raise click.BadParameter("expects a number")
    return value


def _prologue(ctx, param, value):
    if value is not None and value not in ("always", "never", "auto"):
        raise click.BadParameter("expects always, never or auto")
    return value


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(context_settings=CONTEXT, epilog=EXAMPLES,
               help="Run a SystemTap script on tracefs and perf_event, with no compiler, "
                    "no kernel headers and no kernel module.")
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.option("-e", "scripts", multiple=True, metavar="SCRIPT", help="Run SCRIPT given on the command line.")
@click.option("-p", "last_pass", type=int, metavar="NUM", help="Stop after pass NUM (1-5).")
@click.option("-v", "verbose", count=True, help="More verbose; repeat for more.")
@click.option("-k", "keep", is_flag=True, help="Keep the pass-4 program image.")
@click.option("-w", "no_warnings", is_flag=True, help="Suppress warnings.")
@click.option("-W", "warnings_errors", is_flag=True, help="Treat warnings as errors.")
@click.option("-u", "unoptimized", is_flag=True, help="Unoptimized: keep unused symbols.")
@click.option("-g", "guru", is_flag=True, help="Guru mode: allow embedded C (parsed, never run) and raw registers.")
@click.option("-D", "defines", multiple=True, metavar="NAME=VALUE", help="Set a limit, e.g. -D MAXACTION=10000.")
@click.option("-I", "include", multiple=True, metavar="DIR", help="Also look for tapsets in DIR.")
@click.option("-G", "globals_", multiple=True, metavar="VAR=VALUE", help="Set a global variable.")
@click.option("-o", "output", metavar="FILE", help="Write output to FILE (strftime(3) formats expanded).")
@click.option("-c", "command", metavar="CMD", help="Run CMD once probes are armed; exit when it exits.")
@click.option("-x", "target_pid", type=int, metavar="PID", help="Set target() to PID.")
@click.option("-T", "timeout", type=float, metavar="SECONDS", help="Exit after SECONDS.")
@click.option("-s", "buffer_mb", type=int, metavar="MB", help="Per-CPU buffer size in MB.")
@click.option("-b", "bulk", is_flag=True,
              help="Bulk mode: one output file per CPU, FILE_N with -o FILE, else stpd_cpuN; "
                   "each handler's output goes to its CPU's file, framed for stap-merge.")
@click.option("-t", "timing", is_flag=True, help="Report per-probe hit counts and handler time.")
@click.option("-m", "module_name", metavar="NAME", help="Name the program image.")
@click.option("-l", "list_probes", metavar="PROBE", help="List probe points matching PROBE.")
@click.option("-L", "list_probes_vars", metavar="PROBE", help="List matching probe points with their variables.")
@click.option("-V", "--version", "show_version", is_flag=True, help="Show the version.")
@click.option("--dump-probe-types", is_flag=True, help="List the supported probe point families.")
@click.option("--dump-functions", is_flag=True, help="List the tapset functions.")
@click.option("--compatible", metavar="VERSION", help="Behave like SystemTap VERSION.")
@click.option("--suppress-handler-errors", is_flag=True, help="Ignore run-time errors in handlers.")
@click.option("--probe-support", is_flag=True, help="Print what this kernel can serve.")
@click.option("--list-active", is_flag=True, help="Show the kernel events ftstap sessions hold: address, type (k kprobe, r return probe, u uprobe, t tracepoint, e eprobe), place, owning pid.")
@click.option("--run", "run_image", metavar="IMAGE", help="Run a program image made by -p4.")
@click.option("--disable-cache", is_flag=True, help="Neither use nor fill the cache of compiled programs.")
@click.option("--poison-cache", is_flag=True, help="Compile again and replace the cached program.")
@click.option("--clean-cache", is_flag=True, help="Empty the cache of compiled programs, then exit.")
@click.option("--prologue-searching", is_flag=False, flag_value="auto", default=None, callback=_prologue,
              metavar="[WHEN]", help="Accepted for stap compatibility (always/never/auto).")
@click.option("--suppress-time-limits", is_flag=True, help="Accepted for stap compatibility.")
@click.option("--rlimit-as", callback=_rlimit, metavar="N", help="Limit the address space.")
@click.option("--rlimit-cpu", callback=_rlimit, metavar="N", help="Limit CPU time.")
@click.option("--rlimit-nproc", callback=_rlimit, metavar="N", help="Limit processes.")
@click.option("--rlimit-stack", callback=_rlimit, metavar="N", help="Limit the stack.")
@click.option("--rlimit-fsize", callback=_rlimit, metavar="N", help="Limit file size.")
def command(**kw):
    opts = Options.from_cli(kw)
    if opts.show_version:
        click.echo(f"ftstap {__version__}: SystemTap-compatible tracer "
                   f"(language of SystemTap {opts.systemtap_version}), tracefs + perf_event runtime")
        return
    from .driver import run
    sys.exit(run(opts))


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Pass 1 and the -p1 printer recurse once per nesting level of the script
    # (up to 500 levels, ~22 frames each): the default limit of 1000 is too low.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    for arg in argv:
        key = arg.split("=", 1)[0]
        if key in _NOT_FOR_FTSTAP or (key.startswith("-r") and not key.startswith("--") and key != "-"):
            if key not in _NOT_FOR_FTSTAP:
                key = "-r"  # -rRELEASE
            click.echo(f"ftstap: option '{key}' is not supported: {_NOT_FOR_FTSTAP[key]}", err=True)
            sys.exit(1)
        if arg == "--":
            break
    try:
        command.main(argv, prog_name="ftstap", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        click.echo(f"ftstap: {e.format_message()}", err=True)
        click.echo("Try 'ftstap -h' for help.", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        sys.exit(1)
    except FtstapError as e:
        click.echo(e.render(), err=True)
        sys.exit(1)
    except RecursionError:
        click.echo("ftstap: error: the script is nested too deeply", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # a bug in ftstap: one clear line, the details on request
        if os.environ.get("FTSTAP_DEBUG"):
            raise
        click.echo(f"ftstap: internal error: {type(e).__name__}: {e} "
                   f"(set FTSTAP_DEBUG=1 for the traceback, and please report it)", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
