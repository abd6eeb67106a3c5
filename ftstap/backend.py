"""Passes 3 to 5 for the driver: translate the checked program into a
program image, print or keep it, and run it."""
from __future__ import annotations

import os
import sys

from .errors import FtstapError
from .options import Options


def _write_image(image: bytes, opts: Options) -> str:
    """Where -p4 (or -k) puts the image, written safely (ftstap/safefs.py):
    with -m NAME, NAME.ftsimg in the current directory (as stap's NAME.ko);
    otherwise a private directory made for it (mkdtemp, 0700), as stap
    builds in /tmp/stapXXXXXX -- never a predictable name in /tmp."""
    from . import safefs
    if opts.module_name:
        path = os.path.abspath(opts.module_name + ".ftsimg")
    else:
        path = os.path.join(safefs.private_dir("ftstap"), "stap_ftstap.ftsimg")
    safefs.write_new(path, image, 0o644 if opts.module_name else 0o600)
    return path


def _event_definitions(events, filters=None, counted=None, stacks=None, task=()) -> list[str]:
    """What pass 3 plans to open in the kernel, one line per event, with the
    tracefs definition of kprobe/uprobe events (GROUP is ftstap_<pid>)."""
    out = []
    for i, src in enumerate(events):
        out.append(f"# event {i}: {src.pp}: {src.describe()}")
        if src.kind in ("kprobe", "uprobe"):
            from .compile.fetch import FetchPlan
            plan = src.detail.get("fetch") or FetchPlan(src)
            out.append("#   " + plan.definition("GROUP", f"e{i}"))
        if (filters or {}).get(i):
            out.append(f"#   kernel filter: {filters[i]}")
        if i in task:
            out.append("#   per task under -c: the handler acts only for target()")
        if (counted or {}).get(i):
            out.append(f"#   counting mode (no samples): {counted[i]}")
        if (stacks or {}).get(i):
            out.append("#   callchain" + (" (kernel symbols)" if stacks.get("ksyms") else ""))
    return out


def finish(program, opts: Options, cache_slot=None) -> int:
    """Passes 3-5; a successful pass 4 fills cache_slot (imagecache.Slot)."""
    from .compile.codegen import CodeGen
    from .compile.disasm import listing
    from .compile.image import ImageError
    try:
        from .kernel.features import KernelFeatures
        cg = CodeGen(program, KernelFeatures.current())
        for name in opts.globals_:
            g = program.globals.get(name)
            if g is None or not (g.read or g.written) or g.is_array:
                raise FtstapError(f"-G {name}: the script has no scalar global '{name}' in use")
            cg.global_id(g)
        image = cg.build()
    except ImageError as e:
        print(f"error: {e}", file=sys.stderr)
        print("Pass 3: translation failed.", file=sys.stderr)
        return 1
    except FtstapError as e:
        print(e.render(), file=sys.stderr)
        print("Pass 3: translation failed.", file=sys.stderr)
        return 1
    if opts.last_pass == 3:
        defs = _event_definitions(cg.events, cg.filters, cg.counted, getattr(cg, "stacks", None),
                                   task=cg.task_events)
        print("# events" + ("" if defs else " (none: the runtime fires every probe itself)"))
        for d in defs:
            print(d)
        sys.stdout.write(listing(image))
        return 0
    if opts.last_pass == 4 or opts.keep:
        path = _write_image(image, opts)
        if opts.keep and opts.last_pass != 4:
            print(f'Keeping program image "{path}"', file=sys.stderr)
        if opts.last_pass == 4:
            print(path)
            return 0
    if cache_slot is not None:
        cache_slot.store(image)
    globals_ = {}
    for name, value in opts.globals_.items():
        g = program.globals[name]
        try:
            globals_[cg.global_id(g)] = value if g.type == "string" else int(value, 0)
        except ValueError:
            raise FtstapError(f"-G {name}: '{value}' is not a number") from None
    return run(image, globals_, opts)


def run(image: bytes, globals_: dict, opts: Options) -> int:
    from .runtime import native
    from .runtime.outputs import open_outputs
    outs = open_outputs(opts.output, opts.bulk)
    out_fd, bulk_fds = outs.out_fd, outs.bulk_fds
    try:
        from .compile.image import PROBE_KINDS, read_image
        has_events = any(p.kind == PROBE_KINDS["event"] for p in read_image(image).probes)
        if opts.command or opts.timing or has_events:
            # kernel events, -c or -t: runtime/session.py (creates and tears down events)
            from .runtime import session
            return session.run_live(image, globals_, defines=opts.defines, out_fd=out_fd,
                                    timeout_s=opts.timeout,
                                    suppress_handler_errors=opts.suppress_handler_errors,
                                    target_pid=opts.target_pid or 0, command=opts.command,
                                    buffer_mb=opts.buffer_mb, timing=opts.timing,
                                    warnings_errors=opts.warnings_errors, bulk_fds=bulk_fds)
        return native.run_image(image, opts.defines, globals_, out_fd=out_fd, timeout_s=opts.timeout,
                                suppress_handler_errors=opts.suppress_handler_errors,
                                target_pid=opts.target_pid or 0, bulk_fds=bulk_fds)
    finally:
        outs.close()


def run_image_file(path: str, opts: Options) -> int:
    """ftstap --run IMAGE: pass 5 alone, on an image made by -p4 (maybe elsewhere).
    The image runs as root: one another user owns or may change is refused."""
    from .safefs import read_trusted
    image = read_trusted(path, "program image")
    from .runtime.native import ImageLoadError
    try:
        return run(image, {}, opts)
    except ImageLoadError as e:
        raise FtstapError(f"{path}: {e}") from None
