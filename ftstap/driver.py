"""Runs stap's passes in order and stops where -p says.

Each pass is one entry point (parse, elaborate here; translate,
compile_image, run in backend.py).  A pass that fails raises PassFailed,
its error followed by stap's "Pass N: ... failed." line; cli.py prints it
(errors.py: nothing else prints errors)."""
from __future__ import annotations

import os
import sys

from .errors import FtstapError, PassFailed, UsageError
from .options import Options
from .passlog import PassClock, plural

FAILED = {1: "Pass 1: parse failed.", 2: "Pass 2: analysis failed.", 3: "Pass 3: translation failed."}


def _in_pass(number: int, entry, *args, **kw):
    """entry(*args, **kw) as pass `number`: its error becomes that pass's failure."""
    try:
        return entry(*args, **kw)
    except PassFailed:
        raise
    except FtstapError as e:
        raise PassFailed(e, FAILED[number]) from e


def _source(opts: Options):
    from .lang.source import Source, read_source
    if opts.script_text is not None:
        return Source("<input>", opts.script_text)
    if opts.example:
        from .errors import UsageError
        from .lang.library import EXAMPLE_DIRS, find_example
        path = find_example(opts.script_file)
        if path is None:
            where = next((d for d in EXAMPLE_DIRS if os.path.isdir(d)), EXAMPLE_DIRS[0])
            raise UsageError(f"no example script named '{opts.script_file}' (the examples are in {where})")
        return read_source(path)
    return read_source(opts.script_file)


def _listings(opts: Options) -> int:
    """-l/-L PATTERN, --dump-probe-types, --dump-functions."""
    from .kernel.features import KernelFeatures
    from .sema import probelist
    if opts.dump_probe_types:
        lines = probelist.probe_types()
    elif opts.dump_functions:
        from .lang.frontend import run_pass1
        from .lang.source import Source
        lines = probelist.dump_functions(run_pass1(Source("<none>", "probe never {}"), []).tapsets)
    else:
        pattern = opts.list_probes or opts.list_probes_vars
        notes: list[str] = []
        lines = probelist.list_probes(pattern, KernelFeatures.current(), bool(opts.list_probes_vars), notes,
                                      opts.systemtap_version)
        _warn(opts, notes)
    for line in lines:
        print(line)
    return 0


def _warn(opts: Options, warnings: list[str]) -> None:
    if not opts.no_warnings:
        for w in warnings:
            print(w, file=sys.stderr)


def parse(source, opts: Options):
    """Pass 1: the script and the tapsets, parsed (lang/frontend.py)."""
    from .kernel.features import KernelFeatures
    from .lang import frontend
    return frontend.run_pass1(source, opts.args, guru=opts.guru, include=opts.include,
                              compatible=opts.compatible, warnings_as_errors=opts.warnings_fatal,
                              config=KernelFeatures.current().config_lookup())


def elaborate(parsed, opts: Options):
    """Pass 2: the checked Program, every probe point bound on this kernel (sema/elaborate.py)."""
    from .kernel.features import KernelFeatures
    from .sema.elaborate import run_pass2
    from .sema.probes import target_program
    return run_pass2(parsed.script, parsed.tapsets, KernelFeatures.current(), unoptimized=opts.unoptimized,
                     guru=opts.guru, skip_badvars=opts.skip_badvars,
                     program=target_program(opts.command, opts.target_pid),
                     language=opts.systemtap_version, check_version=opts.check_version,
                     limits={k: opts.limit(k) for k in ("MAXACTION", "MAXMAPENTRIES", "MAXSTRINGLEN")})


def _other_modes(opts: Options) -> int | None:
    """What runs no script: --describe, --probe-support, --list-active, --run, listings, --clean-cache."""
    if opts.describe:
        from .image.isa import describe_kernel          # native/describe.c, as ftstap-run's
        sys.stdout.flush()
        describe_kernel(sys.stdout.fileno())
        return 0
    if opts.probe_support:
        from .kernel.support import probe_support_table
        print(probe_support_table())
        return 0
    if opts.list_active:
        from .kernel.dynevents import list_active
        for row in list_active():
            print(row.row())
        return 0
    if opts.run_image:
        from .backend import run_image_file
        return run_image_file(opts.run_image, opts)
    if opts.dump_probe_types or opts.dump_functions or opts.list_probes or opts.list_probes_vars:
        return _listings(opts)
    if opts.clean_cache:
        from .imagecache import clean
        n = clean()
        if opts.verbose:
            print(f"Removed {n} cached program(s).", file=sys.stderr)
        return 0
    return None


def _analyzed(program) -> str:
    """stap's pass-2 summary: what the checked program holds."""
    user_globals = [g for g in program.globals.values() if not g.tapset and (g.read or g.written)]
    return (f"Pass 2: analyzed script: {plural(len(program.probes), 'probe')}, "
            f"{plural(len(program.functions), 'function')}, 0 embeds, {plural(len(user_globals), 'global')}")


def _target_kernel(opts: Options) -> None:
    """-r: compile for a described kernel (kernel/kinfo.py) instead of this one;
    --sysroot: with the target's programs."""
    if opts.sysroot:
        from .kernel.symbols import set_sysroot
        set_sysroot(opts.sysroot)
    if not opts.kernel:
        return
    from .kernel.features import KernelFeatures
    here = os.uname()
    if not os.path.exists(opts.kernel):
        if opts.kernel == here.release:
            return
        raise UsageError(f"-r {opts.kernel}: not the running kernel ({here.release}) and no such file: "
                         "ftstap compiles for another kernel from its description: run `ftstap-run "
                         "--describe > FILE` (or `ftstap --describe`) on it, then -r FILE")
    from .kernel.kinfo import load
    features = load(opts.kernel)
    from .kernel.arch import ARCHES
    if features.arch not in ARCHES:
        raise UsageError(f"-r {opts.kernel} describes a kernel for {features.arch}: ftstap compiles for "
                         f"{' and '.join(ARCHES)} (fetch-arg registers, syscall numbers and the syscall "
                         "wrapper are per architecture: ftstap/kernel/arch.py)")
    if (features.release, features.arch) != (here.release, here.machine) and opts.last_pass == 5:
        raise UsageError(f"-r {opts.kernel} describes {features.release} ({features.arch}), not this kernel "
                         f"({here.release}, {here.machine}): stop at -p4 (-p4 -m NAME) and run the image "
                         "there with ftstap-run")
    KernelFeatures._current = features


def run(opts: Options) -> int:
    _target_kernel(opts)
    done = _other_modes(opts)
    if done is not None:
        return done
    clock = PassClock(opts.verbose)
    source = _in_pass(1, _source, opts)
    slot = None
    from . import imagecache
    if imagecache.applies(opts):
        slot = imagecache.Slot(opts, source.name, source.text)
        hit = slot.lookup()
        if hit is not None:
            image, warnings = hit
            _warn(opts, warnings)
            if opts.verbose:
                print(f"Pass 4: using cached {slot.path}", file=sys.stderr)
            from .backend import run as run_image
            return run_image(image, {}, opts)
    parsed = _in_pass(1, parse, source, opts)
    _warn(opts, parsed.warnings)
    clock.say(f"Pass 1: parsed user script and {len(parsed.tapsets)} library scripts")
    if opts.last_pass == 1:
        from .lang import printer
        sys.stdout.write(printer.script(parsed.script))
        return 0
    program = _in_pass(2, elaborate, parsed, opts)
    _warn(opts, program.notes + program.warnings)
    clock.say(_analyzed(program))
    if slot is not None:
        slot.warnings = list(parsed.warnings) + list(program.notes) + list(program.warnings)
    if opts.warnings_fatal and program.warnings:
        raise PassFailed(None, "Pass 2: warnings are errors (-W).")
    if opts.last_pass == 2:
        from .sema.listing import program_listing
        sys.stdout.write(program_listing(program))
        return 0
    from . import backend            # passes 3-5: not imported for -p1/-p2
    tr, cg = _in_pass(3, backend.translate, program, opts)
    clock.say(f"Pass 3: translated to bytecode ({len(tr.image)} bytes) and "
              f"{plural(len(tr.specs), 'kernel event')}")
    if opts.last_pass == 3:
        return 0
    path = backend.compile_image(tr.image, opts)
    clock.say(f'Pass 4: wrote program image "{path}"' if path else "Pass 4: program image kept in memory",
              memory=False)
    if opts.last_pass == 4:
        return 0
    if slot is not None:
        slot.store(tr.image)
    clock.note("Pass 5: starting run.")
    rc = backend.run(tr.image, backend.global_values(program, cg, opts), opts)
    clock.say("Pass 5: run completed", memory=False)
    return rc
