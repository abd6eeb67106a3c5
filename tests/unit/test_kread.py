"""Pass 3 of kernel memory reads (compile/kread.py): @cast chains and
indexes planned as fetch-args of a uprobe, and the one clear error for a
tracepoint handler that reads through a pointer.  Compiled against this
machine's BTF and tracepoint formats."""
import shutil

import pytest

from ftstap.compile.codegen import CodeGen
from ftstap.compile.image import read_image
from ftstap.errors import FtstapError
from ftstap.kernel import btf as B
from ftstap.kernel.features import KernelFeatures
from ftstap.lang import frontend
from ftstap.lang.source import Source
from ftstap.sema.elaborate import run_pass2

TRUE = shutil.which("true") or "/bin/true"


def events(text: str) -> list[dict]:
    feats = KernelFeatures.current()
    if not feats.btf:
        pytest.skip("needs the kernel's BTF")
    p1 = frontend.run_pass1(Source("<t>", text), [])
    return read_image(CodeGen(run_pass2(p1.script, p1.tapsets, feats), feats).build()).events


def offset(struct: str, member: str) -> int:
    btf = B.BTF.vmlinux()
    return btf.member(btf.find_one(struct, B.STRUCT), member).bit_offset // 8


def test_cast_chains_become_fetch_args():
    exp, fn = offset("timer_list", "expires"), offset("timer_list", "function")
    (ev,) = events(f'probe process("{TRUE}").function("main") {{ '
                   'printf("%d %d %d %d %s\\n", @cast($arg1, "timer_list")->expires, '
                   '@cast(@cast($arg1, "timer_list")->function, "u_int8_t")[2], '
                   '@cast($arg2, "timer_list")[1]->expires, $argc, user_string($argv[1])) }')
    size = B.BTF.vmlinux().size(B.BTF.vmlinux().find_one("timer_list", B.STRUCT))
    assert ev["args"] == [f"a0=+{exp}(%di):u64", f"a1=+2(+{fn}(%di)):u8",
                          f"a2=+{size + exp}(%si):u64", "a3=%di:s32", "a4=+0(+8(%si)):ustring"]


def test_index_must_be_a_literal():
    with pytest.raises(FtstapError, match="must be a number literal"):
        events(f'probe process("{TRUE}").function("main") {{ i = 2; println(@cast($arg1, "u_int8_t")[i]) }}')


def test_tracepoint_reading_through_a_pointer_is_one_clear_error():
    if not KernelFeatures.current().has_tracepoint("timer", "timer_start"):
        pytest.skip("needs the timer:timer_start tracepoint")
    with pytest.raises(FtstapError, match="ftrace ring buffer, which ftstap does not read yet"):
        events('probe kernel.trace("timer:timer_start") { println(@cast($timer, "timer_list")->expires) }')
    (ev,) = events('probe kernel.trace("timer:timer_start") { println(@cast($timer, "timer_list")) }')
    assert ev["kind"] == "tracepoint"        # a cast alone reads nothing
