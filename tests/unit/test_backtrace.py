"""Backtraces without a kernel: which probes get callchains (compile/needs.py),
and the backtrace builtins (native/backtrace.c) over a hand-made event
context -- a callchain with kernel and user parts, a synthetic kallsyms, and
user addresses of this very process (its libc)."""
import ctypes
import os

import pytest

from ftstap.compile.codegen import CodeGen
from ftstap.image.format import read_image
from ftstap.compile.needs import Needs
from ftstap.kernel.features import KernelFeatures
from ftstap.lang import frontend
from ftstap.lang.source import Source
from ftstap.runtime import native
from ftstap.runtime.native import ffi, lib
from ftstap.sema.elaborate import run_pass2
from codegen_support import need_tracepoint

PERF_CONTEXT_KERNEL = (1 << 64) - 128
PERF_CONTEXT_USER = (1 << 64) - 512

KALLSYMS = b"""ffffffff81000000 T _stext
ffffffff81000100 t helper
ffffffff81000200 T vfs_read
ffffffff81000390 T ksys_read
ffffffff81000400 T entry_SYSCALL_64
ffffffffc0002000 t mod_fn\t[e1000]
ffffffffc0003000 T last_fn\t[e1000]
"""


def program(text: str):
    p1 = frontend.run_pass1(Source("<t>", text), [])
    return run_pass2(p1.script, p1.tapsets, KernelFeatures.current())


def needs_of(text: str) -> list:
    prog = program(text)
    n = Needs(prog)
    return [sorted(n(inst)) for inst in prog.probes]


# ---- pass 3: which probes need a callchain ----

def test_needs_direct_and_through_functions():
    got = needs_of("""
        function outer() { return inner() }
        function inner() { return ubacktrace() }
        function rec(n) { if (n > 0) return rec(n - 1); print_backtrace(); return 0 }
        probe begin { println(outer()) }
        probe begin { rec(2) }
        probe begin { println(1) }
        probe end { print_stack("0xffffffff81000010") }
        probe begin { println(symname(0), caller_addr()) }
    """)
    assert got == [["callchain"], ["callchain", "ksyms"], [], ["ksyms"], ["callchain", "ksyms"]]


@pytest.fixture
def tracepoints():
    need_tracepoint("sched", "sched_switch")


def events_of(text: str) -> list[dict]:
    return read_image(CodeGen(program(text)).build()).events


def test_only_probes_reading_a_stack_get_callchains(tracepoints):
    ev = events_of("""
        global bt
        probe kernel.trace("sched:sched_switch") { bt[backtrace()]++ }
        probe kernel.trace("sched:sched_wakeup") { n++ }
        probe end { foreach (k in bt) print_stack(k) }
    """)
    assert ev[0].get("callchain") and ev[0].get("ksyms")
    assert not ev[1].get("callchain") and not ev[1].get("ksyms")


def test_user_stacks_do_not_load_kallsyms(tracepoints):
    ev = events_of('probe kernel.trace("sched:sched_switch") { print_ubacktrace() }')
    assert ev[0].get("callchain") and not ev[0].get("ksyms")


# ---- the builtins over a hand-made event context ----

SCRIPT = """
probe begin { print_backtrace() }
probe begin { println(backtrace()) }
probe begin { print(sprint_backtrace()) }
probe begin { println(caller(), "|", caller_addr(), "|", stack(0), "|", stack(9)) }
probe begin { println(symname(stack(1)), "|", symdata(stack(1)), "|", symname(16)) }
probe begin { print_ubacktrace() }
probe begin { println(ubacktrace()) }
probe begin { print_stack("0xffffffff81000210 0xffffffffc0002004") }
probe begin { println(usymname(ustack(0))) }
"""


def libc_addr(name: str) -> int:
    return ctypes.cast(getattr(ctypes.CDLL(None), name), ctypes.c_void_p).value


@pytest.fixture(scope="module")
def image():
    return CodeGen(program(SCRIPT)).build()


def run(image, probe: int, chain: list[int], ustack: bytes = b"", defines=None, ksyms=True) -> str:
    r, w = os.pipe()
    with native.Session(image, defines, out_fd=w, err_fd=w) as s:
        if ksyms:
            assert s.load_kallsyms(KALLSYMS) == 7
        ctx = ffi.new("ft_ctx *")
        ctx.pid = ctx.tid = os.getpid()
        ctx.probe = probe
        ctx.flags = lib.FT_CTX_EVENT | lib.FT_CTX_CHAIN
        words = ffi.new("unsigned long long[]", chain or [0])
        stack = ffi.new("char[]", ustack or b"\0")
        ctx.chain, ctx.nchain = words, len(chain)
        ctx.ustack, ctx.nustack = stack, len(ustack)
        assert lib.ft_vm_run_probe(s.vm, probe, ctx) == 0
        s.flush()
    os.close(w)
    with os.fdopen(r) as f:
        return f.read()


KCHAIN = [PERF_CONTEXT_KERNEL, 0xffffffff8100021d, 0xffffffff810003a0, 0xffffffff81000410, 0xffffffffc0002004]


def test_print_backtrace_format(image):
    assert run(image, 0, KCHAIN) == (
        " 0xffffffff8100021d : vfs_read+0x1d/0x190 [kernel]\n"
        " 0xffffffff810003a0 : ksys_read+0x10/0x70 [kernel]\n"
        f" 0xffffffff81000410 : entry_SYSCALL_64+0x10/{0xffffffffc0002000 - 0xffffffff81000400:#x} [kernel]\n"
        " 0xffffffffc0002004 : mod_fn+0x4/0x1000 [e1000]\n")


def test_backtrace_hex_and_sprint(image):
    assert run(image, 1, KCHAIN) == \
        "0xffffffff8100021d 0xffffffff810003a0 0xffffffff81000410 0xffffffffc0002004\n"
    assert run(image, 2, KCHAIN) == run(image, 0, KCHAIN)


def test_maxbacktrace_caps_each_part(image):
    assert run(image, 1, KCHAIN, defines={"MAXBACKTRACE": "2"}) == "0xffffffff8100021d 0xffffffff810003a0\n"


def test_sprint_backtrace_truncated_to_maxstringlen(image):
    out = run(image, 2, KCHAIN, defines={"MAXSTRINGLEN": "64"})
    assert out == " 0xffffffff8100021d : vfs_read+0x1d/0x190 [kernel]\n 0xffffffff8"


def test_caller_stack_symname(image):
    assert run(image, 3, KCHAIN) == \
        f"ksys_read 0xffffffff810003a0|{0xffffffff810003a0 - (1 << 64)}|{0xffffffff8100021d - (1 << 64)}|0\n"
    assert run(image, 4, KCHAIN) == "ksys_read|ksys_read+0x10/0x70 [kernel]|0x10\n"


def test_unknown_kernel_addresses_print_raw(image):
    # below every symbol of the table (without one, /proc/kallsyms is read on first use)
    assert run(image, 0, [PERF_CONTEXT_KERNEL, 0xffffffff80000010]) == " 0xffffffff80000010\n"


def test_no_callchain_prints_nothing(image):
    assert run(image, 0, []) == ""
    assert run(image, 1, []) == "\n"


def test_print_stack_from_a_string(image):
    assert run(image, 7, []) == (" 0xffffffff81000210 : vfs_read+0x10/0x190 [kernel]\n"
                                 " 0xffffffffc0002004 : mod_fn+0x4/0x1000 [e1000]\n")


def test_user_frames_named_from_maps_and_elf(image):
    a, b = libc_addr("getpid") + 1, libc_addr("getppid") + 2
    out = run(image, 5, [PERF_CONTEXT_KERNEL, 0xffffffff8100021d, PERF_CONTEXT_USER, a, b])
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f" 0x{a:016x} : getpid+0x1/0x") and "libc" in lines[0]
    assert lines[1].startswith(f" 0x{b:016x} : getppid+0x2/0x")
    assert run(image, 6, [PERF_CONTEXT_USER, a, b]) == f"0x{a:x} 0x{b:x}\n"


def test_function_entry_gets_its_caller_from_the_stack_top(image):
    """A uprobe at a function's first instruction: the frame-pointer walk
    skips its caller, whose return address is on top of the user stack."""
    entry, ret, up = libc_addr("getpid"), libc_addr("getppid") + 7, libc_addr("getuid") + 3
    out = run(image, 6, [PERF_CONTEXT_USER, entry, up], ustack=ret.to_bytes(8, "little") + bytes(8))
    assert out == f"0x{entry:x} 0x{ret:x} 0x{up:x}\n"
    # not at an entry: nothing inserted
    out = run(image, 6, [PERF_CONTEXT_USER, entry + 1, up], ustack=ret.to_bytes(8, "little"))
    assert out == f"0x{entry + 1:x} 0x{up:x}\n"
    assert run(image, 8, [PERF_CONTEXT_USER, entry, up], ustack=ret.to_bytes(8, "little")) == "getpid\n"


def test_backtrace_line_helpers():
    img = CodeGen(program("probe begin { next }")).build()
    with native.Session(img) as s:
        s.load_kallsyms(KALLSYMS)
        assert s.backtrace_line(0xffffffff81000101) == " 0xffffffff81000101 : helper+0x1/0x100 [kernel]\n"
        a = libc_addr("getpid")
        assert s.backtrace_line(a, pid=os.getpid()).startswith(f" 0x{a:016x} : getpid+0x0/")
        assert s.backtrace_line(a, pid=0x7ffffff0) == f" 0x{a:016x}\n"     # no such process
