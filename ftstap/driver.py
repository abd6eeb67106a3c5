"""Runs stap's passes in order and stops where -p says."""
from __future__ import annotations

import sys

from .errors import FtstapError
from .options import Options

PASS_NAMES = {1: "parse", 2: "elaborate", 3: "translate", 4: "compile", 5: "run"}
def _source(opts: Options):
    from .lang.source import Source, read_source
    if opts.script_text is not None:
        return Source("<input>", opts.script_text)
    return read_source(opts.script_file)


def _listings(opts: Options) -> int:
    """-l/-L PATTERN, --dump-probe-types, --dump-functions."""
    from .kernel.features import KernelFeatures
    from .sema import probelist
    try:
        if opts.dump_probe_types:
            lines = probelist.probe_types()
        elif opts.dump_functions:
            from .lang.frontend import run_pass1
            from .lang.source import Source
            lines = probelist.dump_functions(run_pass1(Source("<none>", "probe never {}"), []).tapsets)
        else:
            pattern = opts.list_probes or opts.list_probes_vars
            lines = probelist.list_probes(pattern, KernelFeatures.current(), bool(opts.list_probes_vars))
    except FtstapError as e:
        print(e.render(), file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def _failed(e: FtstapError, line: str) -> int:
    print(e.render(), file=sys.stderr)
    print(line, file=sys.stderr)
    return 1


def _warn(opts: Options, warnings: list[str]) -> None:
    if not opts.no_warnings:
        for w in warnings:
            print(w, file=sys.stderr)


def run(opts: Options) -> int:
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
    try:
        source = _source(opts)
    except FtstapError as e:
        return _failed(e, "Pass 1: parse failed.")
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
    from .lang import frontend, printer
    try:
        result = frontend.run_pass1(source, opts.args, guru=opts.guru, include=opts.include,
                                    compatible=opts.compatible, warnings_as_errors=opts.warnings_errors)
    except FtstapError as e:
        return _failed(e, "Pass 1: parse failed.")
    _warn(opts, result.warnings)
    if opts.verbose:
        print(f"Pass 1: parsed user script and {len(result.tapsets)} library scripts.", file=sys.stderr)
    if opts.last_pass == 1:
        sys.stdout.write(printer.script(result.script))
        return 0
    from .kernel.features import KernelFeatures
    from .sema.elaborate import run_pass2
    from .sema.listing import program_listing
    try:
        features = KernelFeatures.current()
        program = run_pass2(result.script, result.tapsets, features, unoptimized=opts.unoptimized,
                            guru=opts.guru,
                            limits={k: opts.limit(k) for k in ("MAXACTION", "MAXMAPENTRIES", "MAXSTRINGLEN")})
    except FtstapError as e:
        return _failed(e, "Pass 2: analysis failed.")
    _warn(opts, program.warnings)
    if slot is not None:
        slot.warnings = list(result.warnings) + list(program.warnings)
    if opts.warnings_errors and program.warnings:
        print("Pass 2: warnings are errors (-W).", file=sys.stderr)
        return 1
    if opts.last_pass == 2:
        sys.stdout.write(program_listing(program))
        return 0
    from .backend import finish
    return finish(program, opts, slot)
