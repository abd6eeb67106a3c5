"""Passes 3 to 5 for the driver (driver.py), one entry point each:
translate() the checked program into a program image and print it at -p3,
compile_image() (write) the image, run() it."""
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


def _event_definitions(tr) -> list[str]:
    """What pass 3 plans to open in the kernel (tr: compile.codegen's
    Translation), one line per event, with the tracefs definition of
    kprobe/uprobe/eprobe events exactly as pass 5 writes it (GROUP is
    ftstap_<pid>, the event is e<id>)."""
    out = []
    for i, (src, spec) in enumerate(zip(tr.sources, tr.specs)):
        out.append(f"# event {i}: {src.pp}: {src.describe()}")
        if spec.dynamic:
            out.append("#   " + spec.definition("GROUP", f"e{i}"))
        if tr.filters.get(i):
            out.append(f"#   kernel filter: {tr.filters[i]}")
        if i in tr.task:
            out.append("#   per task under -c: the handler acts only for target()")
        if tr.counted.get(i):
            out.append(f"#   counting mode (no samples): {tr.counted[i]}")
        if tr.stacks.get(i):
            out.append("#   callchain" + (" (kernel symbols)" if tr.stacks.get("ksyms") else ""))
    return out


def translate(program, opts: Options):
    """Pass 3: the Translation (compile/codegen.py) of the checked program,
    with -G's globals declared first, and its CodeGen (which numbers them);
    -p3 prints the events and the bytecode listing."""
    from .compile.codegen import CodeGen
    from .image.format import ImageError
    from .kernel.features import KernelFeatures
    cg = CodeGen(program, KernelFeatures.current())
    for name in opts.globals_:
        g = program.globals.get(name)
        if g is None or not (g.read or g.written) or g.is_array:
            raise FtstapError(f"-G {name}: the script has no scalar global '{name}' in use")
        cg.global_id(g)
    try:
        tr = cg.translate()
    except ImageError as e:            # the builder refused what codegen emitted
        raise FtstapError(str(e)) from None
    if opts.last_pass == 3:
        from .compile.disasm import listing
        defs = _event_definitions(tr)
        print("# events" + ("" if defs else " (none: the runtime fires every probe itself)"))
        for d in defs:
            print(d)
        sys.stdout.write(listing(tr.image))
    return tr, cg


def compile_image(image: bytes, opts: Options) -> str | None:
    """Pass 4: write the image where -p4 or -k wants it (its path, else None)."""
    if opts.last_pass == 4 or opts.keep:
        path = _write_image(image, opts)
        if opts.keep and opts.last_pass != 4:
            print(f'Keeping program image "{path}"', file=sys.stderr)
        if opts.last_pass == 4:
            print(path)
        return path
    return None


def _g_value(name: str, value: str, is_string: bool):
    """One -G VAR=VALUE's value: the string, or a 64-bit number (Python's int(v, 0) syntax)."""
    if is_string:
        return value
    try:
        n = int(value, 0)
    except ValueError:
        raise FtstapError(f"-G {name}: '{value}' is not a number") from None
    if not -(1 << 63) <= n < (1 << 63):
        raise FtstapError(f"-G {name}: '{value}' is out of range (64-bit integers)")
    return n


def global_values(program, cg, opts: Options) -> dict:
    """-G VAR=VALUE as {global id: value} for pass 5."""
    globals_ = {}
    for name, value in opts.globals_.items():
        g = program.globals[name]
        globals_[cg.global_id(g)] = _g_value(name, value, g.type == "string")
    return globals_


def run(image: bytes, globals_: dict, opts: Options) -> int:
    from .runtime import native
    from .runtime.outputs import open_outputs
    from .image.format import check_kernel, read_image
    info = read_image(image)               # once per run: the session takes it from here
    check_kernel(info)                     # compiled with -r for another kernel: not here
    if info.event_probes():                # a kernel that cannot create them: refuse before anything exists
        from .kernel.dynevents import refuse_unservable
        native.check_image(image)          # (a bad image is reported as that first)
        specs = info.specs()
        refuse_unservable([specs[e] for _, e in info.event_probes()])
    if opts.target_namespaces:             # ns_pid() & co.: the namespaces of that process
        from .runtime.namespaces import set_target
        set_target(opts.target_namespaces)
    outs = open_outputs(opts.output, opts.bulk, size_option=opts.size_limit)
    out_fd = outs.out_fd
    try:
        if opts.command or opts.timing or info.event_probes():
            # kernel events, -c or -t: runtime/session.py (creates and tears down events)
            from .runtime import session
            return session.run_live(image, globals_, info=info, defines=opts.defines, out_fd=out_fd,
                                    timeout_s=opts.timeout,
                                    suppress_handler_errors=opts.suppress_handler_errors,
                                    target_pid=opts.target_pid or 0, command=opts.command,
                                    buffer_mb=opts.buffer_mb, timing=opts.timing,
                                    warnings_errors=opts.warnings_fatal, outputs=outs,
                                    http=opts.http)
        from .runtime import sidecar
        if sidecar.has_procfs(info):       # procfs files: served over --http and /run/ftstap
            return sidecar.run_image(image, info, opts.http, opts.defines, globals_, out_fd=out_fd,
                                     timeout_s=opts.timeout, target_pid=opts.target_pid or 0,
                                     suppress_handler_errors=opts.suppress_handler_errors,
                                     outputs=outs)
        return native.run_image(image, opts.defines, globals_, out_fd=out_fd, timeout_s=opts.timeout,
                                suppress_handler_errors=opts.suppress_handler_errors,
                                target_pid=opts.target_pid or 0, outputs=outs)
    finally:
        outs.close()


def image_globals(image: bytes, opts: Options) -> dict:
    """-G VAR=VALUE for --run: the image names its globals (only those the
    script uses), so as global_values() does, by name."""
    if not opts.globals_:
        return {}
    from .image.format import read_image
    from .image import isa
    gl = read_image(image).globals
    ids = {}
    for name in opts.globals_:
        ids[name] = next((i for i, g in enumerate(gl) if g.name == name and not g.keys), None)
        if ids[name] is None:
            raise FtstapError(f"-G {name}: the script has no scalar global '{name}' in use")
    return {ids[name]: _g_value(name, value, gl[ids[name]].vtype == isa.VTYPES["s"])
            for name, value in opts.globals_.items()}


def run_image_file(path: str, opts: Options) -> int:
    """ftstap --run IMAGE: pass 5 alone, on an image made by -p4 (maybe elsewhere).
    The image runs as root: one another user owns or may change is refused."""
    from .safefs import read_trusted
    image = read_trusted(path, "program image")
    from .runtime.native import ImageLoadError
    try:
        return run(image, image_globals(image, opts), opts)
    except ImageLoadError as e:
        raise FtstapError(f"{path}: {e}") from None
