"""The functions of stap's *-embedded buildok cases that ftstap writes in
the stap language (issue 15): tables and formatting run in a begin probe
and must print what stap prints; the ones reading kernel memory through
@cast must compile, inlined into an event probe, to the same fetch-args as
the $variable expression they stand for."""
import os
import subprocess
import sys

import pytest


def ftstap(*args: str):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def lines(body: str) -> list[str]:
    rc, out, err = ftstap("-e", "probe begin { " + body + " exit() }")
    assert rc == 0, err
    return out.split("\n")[:-1]


def test_nfsderror_names_the_status_in_network_order():
    codes = [0, 2, 11, 99, 10008, 10014, 10048, 10049, 10072, 10073, 10074, 10087, 10088, 3]
    out = lines(" ".join(f"println(nfsderror(htonl({c})));" for c in codes) + " println(nfsderror(-1));")
    assert out == ["nfsderr 0(NFS_OK)", "nfsderr 2(NFSERR_NOENT)", "nfsderr 11(NFSERR_EAGAIN)",
                   "nfsderr 99(NFSERR_WFLUSH)", "nfsderr 10008(NFSERR_JUKEBOX)",
                   "nfsderr 10014",                       # FHEXPIRED: not in stap's table
                   "nfsderr 10048(NFSERR_CB_PATH_DOWN)", "nfsderr 10049(NFS4ERR_BADIOMODE)",
                   "nfsderr 10072(NFS4ERR_HASH_ALG_UNSUPP)", "nfsderr 10073",
                   "nfsderr 10074(NFS4ERR_CLIENTID_BUSY)", "nfsderr 10087(NFS4ERR_DELEG_REVOKED)",
                   "nfsderr 10088", "nfsderr 3", "nfsderr -1"]


def test_scsi_direction_and_device_state_names():
    out = lines('for (i = -1; i < 5; i++) print(describe_data_direction(i), ","); println(""); '
                'for (i = 0; i < 11; i++) print(describe_device_state(i), ","); println("")')
    assert out == ["[INVALID],BIDIRECTIONAL,TO_DEVICE,FROM_DEVICE,NONE,[INVALID],",
                   "[INVALID],CREATED,RUNNING,CANCEL,DEL,QUIESCE,OFFLINE,[INVALID],BLOCK,CREATED_BLOCK,[INVALID],"]


def _kernel_text_address() -> int:
    with open("/proc/kallsyms") as f:
        for line in f:
            addr, kind, name = line.split()[:3]
            if name == "_stext":
                return int(addr, 16)
    return 0


def test_modname_of_a_kernel_address_and_of_none():
    stext = _kernel_text_address()
    if not stext:
        pytest.skip("/proc/kallsyms hides addresses from this user")
    out = lines(f'println(modname({stext:#x})); try {{ println(modname(0)) }} catch (m) {{ println(m) }}')
    assert out == ["kernel", "Cannot determine kernel module name"]


def test_utf_and_buffer_readers_without_memory():
    out = lines('println(user_string_utf32(0, "e32")); println(user_string_utf16(8, "e16")); '
                'println(user_string_quoted_utf32(16)); println(user_string_quoted_utf16(0)); '
                'try { println(user_string_utf32(24)) } catch (m) { println(m) } '
                'try { println(user_string2_utf16(0, "x") . user_string_utf16(32)) } catch (m) { println(m) } '
                'println(user_buffer_quoted(0x30, 4, 10)); println(user_buffer_quoted(0x30, 4, 3)); '
                'println(user_buffer_quoted(0x30, 4, 0) == ""); '
                'try { println(user_buffer_quoted_error(0x40, 4, 10)) } catch (m) { println(m) }')
    assert out == ["e32", "e16", "0x10", "0x0", "user string copy fault at 0x18 [man error::fault]",
                   "user string copy fault at 0x20 [man error::fault]", "0x30", "0x", "1",
                   "Unable to access user space data at 0x40"]


def test_utf8_encoding_of_code_points():
    out = lines('println(__utf8_char(0x41) == "A", __utf8_char(0xe9) == "\\xc3\\xa9", '
                '__utf8_char(0x20ac) == "\\xe2\\x82\\xac", __utf8_char(0x1f600) == "\\xf0\\x9f\\x98\\x80", '
                '__utf8_char(0xd800) == "", __utf8_char(0x110000) == "", __utf8_char(0x7ff) == "\\xdf\\xbf")')
    assert out == ["1111111"]


def test_signal_mask_and_flag_strings():
    out = lines('println(sigset_mask_str(0) == ""); println(sigset_mask_str((1 << 1) | (1 << 14) | (1 << 62) | (1 << 63))); '
                'println(sa_flags_str(0x14000004)); println(sa_flags_str(0xffffffff)); '
                'println(sa_flags_str(0x20000000) == "")')
    assert out == ["1", "2,15,63", "SIGINFO|RESTART|RESTORER",
                   "NOCLDSTOP|NOCLDWAIT|SIGINFO|ONSTACK|RESTART|NODEFER|RESETHAND|RESTORER", "1"]


def test_proc_mem_and_memory_internals():
    page = os.sysconf("SC_PAGE_SIZE")
    out = lines('println(_stp_number_to_string_postfix(1, 512, "K"), "|", _stp_number_to_string_postfix(12, 512, "M"), '
                '"|", _stp_number_to_string_postfix(123, 0, "G"), "|", _stp_number_to_string_postfix(1, 0, "")); '
                f'println(_stp_mem_txt_adjust({page + 1}, {3 * page + 1}), " ", _stp_mem_txt_adjust({page}, {3 * page}), '
                f'" ", _stp_mem_txt_adjust(0, 1)); '
                'println(_MM_FILEPAGES(), _MM_ANONPAGES(), _MM_SHMEMPAGES(), " ", GFP_KERNEL(), " ", __gfp_flag_str(GFP_KERNEL()))')
    assert out == ["1.50K|12.5M| 123G|1.00", "3 2 1", "013 3264 GFP_KERNEL"]


def test_block_device_names_and_bio_rw():
    out = lines('println(__disk_part_name("sda", 0), " ", __disk_part_name("sda", 2), " ", '
                '__disk_part_name("nvme0n1", 1), " ", __disk_part_name("loop7", 3)); '
                'println(bio_rw_num(0), bio_rw_num(1), bio_rw_num(3), " ", bio_rw_str(0), bio_rw_str(1)); '
                'try { println(disk_major_from_request(0)) } catch (m) { println(m) } '
                'try { println(disk_minor_from_request(0)) } catch (m) { println(m) }')
    assert out == ["sda sda2 nvme0n1p1 loop7p3", "011 RW", "unsupported (PR28634)", "unsupported (PR28634)"]


def test_scheduler_socket_dentry_pure_parts():
    out = lines('println(__is_idle(), " ", _rtn_local()); '
                'println(container_of_task_rcu(0x100000) == 0x100000 - &@cast(0, "task_struct")->rcu); '
                'println(__socket_alloc_inode_offset() == &@cast(0, "socket_alloc")->vfs_inode); '
                'println(__dentry_alias_offset() == &@cast(0, "dentry")->d_u->d_alias); '
                'println(__dentry_join("/", "/"), " ", __dentry_join("etc", ""), " ", __dentry_join("etc", "passwd"), '
                '" ", __dentry_join("/", "etc/"))')
    assert out == ["0 2", "1", "1", "1", "/ etc etc/passwd etc/"]


def test_ipv4_addresses_are_taken_as_the_kernel_stores_them():
    """stap's ip_ntop/format_ipaddr print a __be32 as it lies in memory:
    192.168.1.2 is 0x0201a8c0 on a little-endian host."""
    out = lines('println(ip_ntop(0x0100007f)); println(format_ipaddr(0x0201a8c0, AF_INET())); '
                'println(ip_ntop(htonl(0x0a000001)))')
    assert out == ["127.0.0.1", "192.168.1.2", "10.0.0.1"]


def test_inet_tcp_ipmib_pure_parts():
    out = lines('println(__inet_addr_str(2, 0x0100007f, 0, 0, 0, 0, 0, 0, 0, 0)); '
                'println(__inet_addr_str(10, 0, 0x80fe, 0, 0, 0, 0x0102, 0, 0, 0x0100)); '
                'println(__inet_addr_str(1, 0, 0, 0, 0, 0, 0, 0, 0, 0)); '
                'println(tcp_sockopt_str(0), " ", tcp_sockopt_str(1), " ", tcp_sockopt_str(15), " ", '
                'tcp_sockopt_str(18), " ", tcp_sockopt_str(19)); '
                'println(tcp_ipv6_sockopt_str(1), " ", tcp_ipv6_sockopt_str(11), " ", tcp_ipv6_sockopt_str(12), " ", '
                'tcp_ipv6_sockopt_str(26), " ", tcp_ipv6_sockopt_str(48), " ", tcp_ipv6_sockopt_str(62), " ", '
                'tcp_ipv6_sockopt_str(67), " ", tcp_ipv6_sockopt_str(75), " ", tcp_ipv6_sockopt_str(76)); '
                'println(_ehostunreach(), _enetunreach(), _icmp_dest_unreach(), _icmp_prot_unreach(), _net_rx_drop(), '
                '_icmp_time_exceeded(), _icmp_exc_fragtime(), _rtn_unspec(), _rtn_broadcast(), _rtn_multicast(), '
                '_input_route_type(0), _output_route_type(0))')
    assert out == ["127.0.0.1", "fe80:0000:0000:0000:0201:0000:0000:0001", "*unknown address family*",
                   "UNDEF_SOCKOPT(0) TCP_NODELAY TCP_COOKIE_TRANSACTIONS TCP_USER_TIMEOUT UNDEF_SOCKOPT(19)",
                   "IPV6_ADDRFORM IPV6_FLOWINFO UNDEF_SOCKOPT(12) IPV6_V6ONLY MCAST_MSFILTER IPV6_DONTFRAG "
                   "IPV6_TCLASS IPV6_TRANSPARENT UNDEF_SOCKOPT(76)",
                   "11310132111103500"]


@pytest.mark.parametrize("call, why", [
    ("mdelay(1)", "it busy-waits in the kernel"),
    ("panic(\"x\")", "it panics the kernel"),
    ("_get_sock_size(0, 1)", "sums the lengths of nr_segs iovecs"),
    ("__inode_vfsmount(0)", "walks a superblock's list of mounts"),
    ("addr_to_node(0)", "NUMA node"),
])
def test_functions_fetch_args_cannot_serve_fail_at_pass_2(call, why):
    rc, out, err = ftstap("-p2", "-e", f"probe begin {{ println({call}) }}")
    name = call.split("(")[0]
    assert rc == 1 and f"function '{name}' cannot be served: " in err and why in err, err


def _p3_args(script: str) -> list[str]:
    """The fetch-args of the kprobe -p3 defines for script on this kernel."""
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        pytest.skip("needs the kernel's BTF")
    rc, out, err = ftstap("-p3", "-e", script)
    assert rc == 0, err
    defs = [line.split(None, 3)[-1] for line in out.splitlines() if ":GROUP/" in line and line.lstrip("# ").startswith("p:")]
    assert len(defs) == 1, out
    return sorted(a.split("=", 1)[1] for a in defs[0].split() if "=" in a)


# Each @cast helper, called on a tracepoint's $variable, reads what the
# $variable expression beside it reads.
@pytest.mark.parametrize("tp, helper, direct", [
    ("net:net_dev_xmit", "get_netdev_name($dev)", "kernel_string($dev->name)"),
    ("sock:inet_sock_set_state", "tcpmib_get_state($sk)", "$sk->__sk_common->skc_state"),
    ("sock:inet_sock_set_state", "tcpmib_remote_port($sk)", "$sk->__sk_common->skc_dport"),
    ("sock:inet_sock_set_state", "tcpmib_local_addr($sk)", '@cast($sk, "inet_sock")->inet_saddr'),
    ("block:block_bio_queue", "bio_op($bio)", "$bio + $bio->bi_opf"),
    ("block:block_bio_queue", "__bio_start_sect($bio)", "$bio->bi_bdev->bd_start_sect"),
    ("sched:sched_switch", "is_sig_blocked($prev, 2)", "$prev->blocked->sig[0]"),
    ("sched:sched_switch", "_stp_valid_task($prev)", "$prev + $prev->flags"),
    ("sched:sched_switch", "_stp_get_mm_counter($prev->mm, 1)", "$prev->mm->rss_stat[1]->count"),
    ("signal:signal_deliver", "get_sa_flags($ka)", "$ka->sa->sa_flags"),
    ("sock:inet_sock_set_state", "inet_get_local_port($sk)", "$sk->__sk_common->skc_num"),
    ("sock:inet_sock_set_state", "tcp_get_info_snd_cwnd($sk)", '@cast($sk, "tcp_sock")->snd_cwnd'),
    ("sock:inet_sock_set_state", "tcp_get_info_rto($sk)", '@cast($sk, "inet_connection_sock")->icsk_rto'),
    ("sock:inet_sock_set_state", "__ip_sock_daddr($sk)",
     "$sk->__sk_common->skc_family + $sk->__sk_common->skc_daddr + $sk"),
    ("skb:kfree_skb", "_plunge_into_tcphdr($skb)", "$skb->head + $skb->network_header"),
])
def test_cast_helpers_read_what_the_direct_expression_reads(tp, helper, direct):
    pytest.importorskip("ftstap.sema.inline_reads", reason="the lead's inlining of @cast helpers")
    got = _p3_args(f'probe kernel.trace("{tp}") {{ println({helper}) }}')
    want = _p3_args(f'probe kernel.trace("{tp}") {{ println({direct}) }}')
    assert got == want
