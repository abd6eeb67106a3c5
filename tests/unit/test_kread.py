"""Pass 3 of kernel memory reads (compile/kread.py): @cast chains and
indexes planned as fetch-args of a uprobe; a tracepoint handler reading
through a pointer becomes an eprobe, or one clear error on kernels without
them.  Compiled against this machine's BTF and tracepoint formats."""
import shutil

import pytest

from ftstap.compile.codegen import CodeGen
from ftstap.image.format import read_image
from ftstap.errors import FtstapError
from ftstap.kernel import btf as B
from ftstap.kernel.features import KernelFeatures
from ftstap.lang import frontend
from ftstap.lang.source import Source
from ftstap.sema.elaborate import run_pass2
from codegen_support import need_tracepoint

TRUE = shutil.which("true") or "/bin/true"


class WithEprobes(KernelFeatures):
    has_eprobes = True


class WithoutEprobes(KernelFeatures):
    has_eprobes = False


def events(text: str, eprobes: bool = False) -> list[dict]:
    cur = KernelFeatures.current()
    if not cur.btf:
        pytest.skip("needs the kernel's BTF")
    cls = WithEprobes if eprobes else WithoutEprobes
    feats = cls(**{f: getattr(cur, f) for f in cur._fields if f != "_cache"})
    p1 = frontend.run_pass1(Source("<t>", text), [])
    return read_image(CodeGen(run_pass2(p1.script, p1.tapsets, feats), feats).build()).events


def offset(struct: str, member: str) -> int:
    btf = B.BTF.vmlinux()
    return btf.member(btf.find_one(struct, B.STRUCT), member).bit_offset // 8


def test_cast_chains_become_fetch_args():
    exp, fn = offset("timer_list", "expires"), offset("timer_list", "function")
    (ev,) = events(f'probe process("{TRUE}").function("main") {{ '
                   'printf("%d %d %d %d %s\\n", @cast($arg1, "timer_list", "kernel")->expires, '
                   '@cast(@cast($arg1, "timer_list", "kernel")->function, "u_int8_t", "kernel")[2], '
                   '@cast($arg2, "timer_list", "kernel")[1]->expires, $argc, user_string($argv[1])) }')
    size = B.BTF.vmlinux().size(B.BTF.vmlinux().find_one("timer_list", B.STRUCT))
    assert ev["args"] == [f"a0=+{exp}(%di):u64", f"a1=+2(+{fn}(%di)):u8",
                          f"a2=+{size + exp}(%si):u64", "a3=%di:s32", "a4=+0(+8(%si)):ustring"]


def test_index_must_be_a_literal():
    with pytest.raises(FtstapError, match="must be a number literal"):
        events(f'probe process("{TRUE}").function("main") {{ i = 2; println(@cast($arg1, "u_int8_t", "kernel")[i]) }}')


def need_timer_start():
    need_tracepoint("timer", "timer_start")


def test_tracepoint_reads_become_eprobe_fetch_args():
    need_timer_start()
    exp, fn = offset("timer_list", "expires"), offset("timer_list", "function")
    (ev,) = events('probe kernel.trace("timer:timer_start") { '
                   'printf("%d %d %d %s\\n", @cast($timer, "timer_list")->expires, $flags, '
                   '@cast(@cast($timer, "timer_list")->function, "u_int8_t")[2], $$parms) }', eprobes=True)
    assert ev["kind"] == "eprobe" and (ev["system"], ev["event"]) == ("timer", "timer_start")
    args = ev["args"]
    assert args[:3] == [f"a0=+{exp}($timer):u64", "a1=$flags:u32", f"a2=+2(+{fn}($timer)):u8"]
    # $$parms: every field, each fetched once ($flags already was)
    assert "a3=$timer:u64" in args and args.count("a1=$flags:u32") == 1
    assert (ev["fields"]["a0"], ev["fields"]["a1"], ev["fields"]["a2"]) == (8, 16, 20)


def test_plain_fields_stay_a_tracepoint():
    need_timer_start()
    (ev,) = events('probe kernel.trace("timer:timer_start") { printf("%d\\n", $expires) }', eprobes=True)
    assert ev["kind"] == "tracepoint" and not ev.get("args")
    (ev,) = events('probe kernel.trace("timer:timer_start") { println(@cast($timer, "timer_list")) }')
    assert ev["kind"] == "tracepoint"        # a cast alone reads nothing


def test_without_eprobes_the_kernel_option_is_named():
    need_timer_start()
    with pytest.raises(FtstapError, match="CONFIG_EPROBE_EVENTS"):
        events('probe kernel.trace("timer:timer_start") { println(@cast($timer, "timer_list")->expires) }')
