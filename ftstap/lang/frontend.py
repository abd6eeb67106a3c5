"""Pass 1 as a whole: preprocess and parse the user's script and the tapset
library, and make the checks stap makes at parse time."""
from __future__ import annotations

import gc
import os
import sys
from ..record import mutable

from ..errors import ErrorList, FtstapError, SourceError, Span
from . import argv
from . import ast as A
from .parser import ParseOptions, Parser
from .preprocess import PPContext, Preprocessor
from .library import library_dirs
from .source import Loc, Source, decode, read_source  # noqa: F401 (read_source, decode: used via frontend)

@mutable
class Pass1Result:
    script: A.Script                       # the user's script
    tapsets: list[A.Script] = []
    warnings: list[str] = []


def _files(dirs: list[str], suffix: str) -> list[str]:
    out = []
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for root, _subdirs, names in os.walk(d):
            out.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(suffix))
    return out


def default_context(args: list[str], guru: bool, compatible: str | None,
                    config=None) -> PPContext:
    uname = os.uname()   # not platform.uname(): importing platform costs ~4 ms
    return PPContext(kernel_release=uname.release, arch=uname.machine, runtime="kernel",
                     systemtap_v=compatible or "5.3", privilege="stapdev",
                     guru=guru, args=list(args), config=config)


def compat_at_least(compatible: str | None, version: tuple[int, int]) -> bool:
    """Is --compatible (None: the current language) at least `version`?"""
    if not compatible:
        return True
    try:
        parts = [int(p) for p in compatible.split(".")[:2]]
    except ValueError:
        return True
    return tuple(parts + [0] * (2 - len(parts))) >= version


def parse_options(guru: bool, compatible: str | None, privileged: bool = False) -> ParseOptions:
    return ParseOptions(guru=guru, privileged=privileged,
                        autocast=compat_at_least(compatible, (2, 6)),
                        glue_across_comments=compat_at_least(compatible, (2, 0)),
                        cast_in_probe_module=compat_at_least(compatible, (4, 2)))


# The parser is recursive descent: one nesting level (MAX_NESTING = 500) of
# an expression costs ~22 Python frames, far beyond the default limit of 1000.
RECURSION_LIMIT = 20000


def parse_source(source: Source, pp: Preprocessor, opts: ParseOptions) -> A.Script:
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    # Tokens and AST nodes hold no cycles: without the cyclic collector's
    # full passes (each one walks the whole growing tree) parsing is linear.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(source, pp, opts)
    except RecursionError:
        raise SourceError("the script is nested too deeply", Loc(source, 0)) from None
    finally:
        sys.setrecursionlimit(old_limit)
        if collecting:
            gc.enable()


def _parse(source: Source, pp: Preprocessor, opts: ParseOptions) -> A.Script:
    tokens = pp.run(source)
    if len(tokens) == 1:
        raise SourceError("input file is empty or has no useful content", tokens[0].loc,
                          saw="end of input")
    parser = Parser(tokens, opts)
    try:
        script = parser.script(source.name)
    except RecursionError:
        t = parser.peek()
        raise SourceError("the script is nested too deeply", t.loc, saw=t.describe()) from None
    errors = list(parser.errors)
    errors.extend(check_declarations(script))
    if errors:
        raise ErrorList(errors, "parse")
    return script


def check_declarations(script: A.Script) -> list[SourceError]:
    """Duplicate globals and functions within one file are parse errors."""
    errors = []
    seen: dict[str, A.Global] = {}
    for g in script.of(A.Global):
        if g.name in seen:
            errors.append(SourceError(f"duplicate global variable '{g.name}'", g.loc,
                                      saw=f"identifier '{g.name}'"))
        seen[g.name] = g
    return errors


def _library(dirs: list[str], pp: Preprocessor, guru: bool, compatible: str | None, config):
    """Parse the tapset library, or take it from the cache (lang/tapsetcache.py)."""
    from . import tapsetcache as cache
    paths = _files(dirs, ".stp")
    lib_ctx = default_context([], guru, compatible, config)
    settings = (guru, compatible, lib_ctx.kernel_release, lib_ctx.arch, repr(config))
    key = cache.cache_key(paths, _files(dirs, ".stpm"), settings)
    hit = cache.load(key)
    if hit is not None:
        return hit
    tapsets, warnings = [], []
    for path in paths:
        try:
            tap_pp = Preprocessor(lib_ctx, pp.macros)
            tapsets.append(parse_source(read_source(path), tap_pp,
                                        parse_options(guru, compatible, privileged=True)))
        except FtstapError as e:
            warnings.append(f"WARNING: tapset {path} has errors and is skipped:\n{e.render()}")
    cache.store(key, (tapsets, warnings))
    return tapsets, warnings


def run_pass1(source: Source, args: list[str], *, guru: bool = False, include: list[str] = (),
              compatible: str | None = None, warnings_as_errors: bool = False,
              with_tapsets: bool = True, config=None) -> Pass1Result:
    ctx = default_context(args, guru, compatible, config)
    pp = Preprocessor(ctx)
    dirs = library_dirs(list(include))
    result_warnings: list[str] = []
    for path in _files(dirs, ".stpm"):
        try:
            pp.load_library(read_source(path))
        except FtstapError as e:
            result_warnings.append(f"WARNING: macro library {path} skipped:\n{e.render()}")
    tapsets: list[A.Script] = []
    if with_tapsets:
        tapsets, tap_warnings = _library(dirs, pp, guru, compatible, config)
        result_warnings.extend(tap_warnings)
    opts = parse_options(guru, compatible)
    script = parse_source(source, pp, opts)
    names = argv.wanted(script) if with_tapsets else set()
    if names:                                    # argc/argv: globals of this run's arguments
        lib_text, probe_text = argv.argv_tapset(list(args))
        lib_opts = parse_options(guru, compatible, privileged=True)
        tapsets = tapsets + [parse_source(Source("<argv>", lib_text), pp, lib_opts)]
        if "argv" in names:
            script = A.Script(script.items + parse_source(Source("<argv>", probe_text), pp, lib_opts).items,
                              script.name, script.loc)
    result_warnings.extend(pp.warnings)
    if warnings_as_errors and result_warnings:
        raise FtstapError("\n".join(result_warnings) + "\nwarnings are errors (-W)")
    return Pass1Result(script, tapsets, result_warnings)
