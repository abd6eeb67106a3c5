"""ipmib.* (tapsets/ipmib.stp) against this kernel's BTF and kallsyms: every
probe binds and translates (pass 3: its kprobes and their fetch-args), -L
lists each with stap's variables, and the pure functions answer as stap's.
The counts themselves need kprobe_events: test_live_kprobe_tapsets.py,
run in the QEMU guest by tests/qemu/test_qemu_kprobes.py."""
import os
import re
import subprocess
import sys

import pytest

from ftstap.kernel.btf import VMLINUX

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# probe -> the kernel functions its kprobes hook (r: a return probe)
PROBES = {
    "InReceives": {"p:ip_rcv_core"},
    "InNoRoutes": {"p:ip_error"},
    "InAddrErrors": {"p:ip_error"},
    "InUnknownProtos": {"p:__icmp_send"},
    "InDiscards": {"r:ip_rcv", "p:ip_rcv"},
    "ForwDatagrams": {"p:ip_forward_finish"},
    "OutRequests": {"p:ip_output", "p:ip_mc_output"},
    "ReasmTimeout": {"p:__icmp_send"},
    "ReasmReqds": {"p:ip_defrag"},
    "FragOKs": {"r:ip_do_fragment", "p:ip_do_fragment"},
    "FragFails": {"r:ip_do_fragment", "p:ip_do_fragment", "p:__icmp_send"},
}


def ftstap(*args):
    r = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=300,
                       cwd=REPO)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def btf():
    if not os.path.exists(VMLINUX):
        pytest.skip(f"{VMLINUX} missing (CONFIG_DEBUG_INFO_BTF)")
    with open("/proc/kallsyms") as f:
        if not any(l.endswith(" ip_rcv\n") and not l.startswith("0000000000000000") for l in f):
            pytest.skip("/proc/kallsyms has no address for ip_rcv")


def hooks(listing: str) -> set[str]:
    return {f"{m.group(1)}:{m.group(2)}" for m in re.finditer(r"^#\s+([pr]):GROUP/\S+ (\S+)", listing, re.M)}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_each_probe_translates_into_its_kprobes(btf, name):
    # the user's own global, counted as stap's tapset does its own
    out = ftstap("-p3", "-e", f"global IPMIB_{name} probe ipmib.{name} {{ IPMIB_{name}[skb] += op }} "
                 f'probe end {{ foreach (k in IPMIB_{name}) printf("%x %d\\n", k, IPMIB_{name}[k]) '
                 f'printf("%d\\n", {name}[1]) }}')
    got = hooks(out)
    want = PROBES[name]
    if name == "InReceives" and "p:ip_rcv_core" not in got:      # ip_rcv_core inlined
        want = {"p:ip_rcv"}
    assert got == want, out


def test_listing_names_every_probe_with_stap_variables(btf):
    lines = ftstap("-L", "ipmib.*").splitlines()
    assert sorted(l.split()[0] for l in lines) == sorted(f"ipmib.{n}" for n in PROBES)
    for l in lines:
        assert l.split()[1:] == ["skb:long", "op:long", "SourceIsLocal:long", "key:long"], l


def test_a_filter_of_stap_s_shape_with_every_helper_translates(btf):
    # stap's own filter signature, calling each of the tapset's helpers
    out = ftstap("-p3", "-e", """
function ipmib_filter_key:long (skb:long, op:long, SourceIsLocal:long) {
    if (ipmib_remote_addr(skb, SourceIsLocal) == 0x7f000001) return 0
    if (ipmib_local_addr(skb, SourceIsLocal) == 0x7f000001) return 0
    if (ipmib_tcp_remote_port(skb, SourceIsLocal) == 22) return 0
    if (ipmib_tcp_local_port(skb, SourceIsLocal) == 22) return 0
    if (ipmib_get_proto(skb) == 1) return 0
    return op
}
probe ipmib.* { printf("%p %d\\n", skb, op) }""")
    assert hooks(out) >= set().union(*PROBES.values()) - {"p:ip_rcv_core"}


def test_default_filter_and_helpers_outside_a_counted_packet():
    out = ftstap("-e", 'probe begin { printf("%d %d %d\\n", ipmib_filter_key(0, 1, 0), '
                 "ipmib_filter_key(0xffff888000001000, 1, 1), ipmib_filter_key(0xffff888000001000, 3, 0)) "
                 'printf("%d %d %d %d %d\\n", ipmib_remote_addr(1, 0), ipmib_local_addr(1, 1), '
                 "ipmib_tcp_remote_port(1, 0), ipmib_tcp_local_port(1, 1), ipmib_get_proto(1)) exit() }")
    assert out.splitlines() == ["0 1 3", "0 0 0 0 0"]
