"""Compile a script through passes 1-3 in-process and read the image back."""
from ftstap.compile.codegen import CodeGen
from ftstap.image.format import decode, read_image
from ftstap.kernel.features import KernelFeatures
from ftstap.lang import frontend
from ftstap.lang.source import Source
from ftstap.sema.elaborate import run_pass2


def compile_image(text: str) -> bytes:
    p1 = frontend.run_pass1(Source("<t>", text), [])
    program = run_pass2(p1.script, p1.tapsets, KernelFeatures.current())
    return CodeGen(program).build()


def ops(text: str, function: int = 0) -> list[str]:
    """Opcode names of one function of the compiled script, without ACTION."""
    info = read_image(compile_image(text))
    return [op for _pc, op, _kinds, _args in decode(info.functions[function].code) if op != "ACTION"]


def need_tracepoint(system: str, event: str) -> None:
    """Skip unless this machine's tracefs has system:event's format (these
    tests compile against the running kernel's tracepoints)."""
    import pytest
    from ftstap.errors import FtstapError
    try:
        ok = KernelFeatures.current().has_tracepoint(system, event)
    except FtstapError:
        ok = False
    if not ok:
        pytest.skip(f"needs the {system}:{event} tracepoint")
