"""--probe-support against binding: every row it reports as served on this
kernel names probe points that pass 2 binds here (a representative of each
family below; a new served row without one fails, so the table and the
providers cannot drift apart), and a row it reports as unserved does not
run (kprobe families bind at pass 2 anywhere BTF and kallsyms describe
them, and are refused at pass 5, before anything is created)."""
import os
import subprocess
import sys

import pytest

from ftstap.kernel.features import KernelFeatures
from ftstap.kernel.support import probe_support

TRUE = "/bin/true"
EXAMPLES = {
    "begin, end, error, never": ["begin", "end", "error"],
    "syscall.*, nd_syscall.*": ["syscall.read", "nd_syscall.write.return"],
    'kernel.trace("SYS:EVENT")': ['kernel.trace("sched:sched_switch")'],
    'kernel.function("F"), kprobe.function("F")': ['kernel.function("vfs_read")'],
    'kernel.function("F").return': ['kernel.function("vfs_read").return'],
    'process("P").function("F"), .return, .statement': [f'process("{TRUE}").function("_start")'],
    'process[("P")|(PID)][.thread].begin/.end': ["process.begin", f'process("{TRUE}").end', "process.thread.end"],
    "process.syscall, process.syscall.return": ["process.syscall", "process.syscall.return"],
    "scheduler.*": ["scheduler.cpu_on", "scheduler.ctxswitch"],
    "kprocess.create/exec/exec_complete/exit/release": ["kprocess.create", "kprocess.exec_complete",
                                                         "kprocess.release"],
    "signal.send/deliver/handle/check_ignored": ["signal.send", "signal.handle"],
    "signal.syskill/systkill/systgkill/procmask/pending/send_sig_queue": ["signal.syskill", "signal.procmask"],
    "netdev.receive, netdev.transmit": ["netdev.receive", "netdev.transmit"],
    "udp.sendmsg.return, udp.recvmsg.return": ["udp.sendmsg.return"],
    "tcp.sendmsg.return, tcp.recvmsg.return": ["tcp.recvmsg.return"],
    "tcp.receive, tcp.ipv4.receive, tcp.ipv6.receive (established sockets)": ["tcp.receive", "tcp.ipv6.receive"],
    "socket.send, socket.receive, socket.sendmsg.return, socket.recvmsg.return": ["socket.send", "socket.receive"],
    "vfs.read/write/readv/writev/open (+ .return)": ["vfs.read", "vfs.open.return"],
    "ioblock.request/end, ioblock_trace.request/end": ["ioblock.request", "ioblock_trace.end"],
    "ioscheduler.*, ioscheduler_trace.*": ["ioscheduler.elv_add_request"],
    "workqueue.insert, workqueue.execute": ["workqueue.insert", "workqueue.execute"],
    "tcpmib.* but InSegs, OutSegs": ["tcpmib.ActiveOpens"],
    "irq_handler.entry/exit, softirq.entry/exit": ["irq_handler.entry", "softirq.exit"],
    "vm.pagefault, vm.kmalloc/kfree/kmem_cache_*, vm.mmap/munmap, vm.oom_kill": ["vm.pagefault", "vm.kmalloc",
                                                                                 "vm.mmap", "vm.oom_kill"],
    "timer.s/ms/us/ns/hz/jiffies(N)": ["timer.s(1)", "timer.jiffies(10)", "timer.hz(5)"],
    "timer.profile, timer.profile.tick, timer.profile.freq.hz(N)": ["timer.profile", "timer.profile.freq.hz(99)"],
    "perf.sw.*": ["perf.sw.cpu_clock"],
    "perf.hw.*": ["perf.hw.cpu_cycles"],
    "kernel.data(ADDR), process.data(ADDR)": ["kernel.data(0x1000).write"],
    "udp.sendmsg, udp.recvmsg, udp.disconnect": ["udp.sendmsg"],
    "netfilter.*": ['netfilter.hook("NF_INET_PRE_ROUTING")'],
    "tty.*": ["tty.open"],
    "scsi.iodispatching, scsi.iodone": ["scsi.iodispatching", "scsi.iodone"],
    "scsi.ioentry, scsi.iocompleted, scsi.ioexecute, scsi.set_state": ["scsi.iocompleted"],
    "nfs.fop.*, nfs.aop.*": ["nfs.fop.open", "nfs.aop.write_begin"],
    "nfs.proc.*, nfs.proc2/3/4.*": ["nfs.proc.lookup"],
    "nfsd.*, nfsd.proc.*, nfsd.proc2/3/4.*": ["nfsd.dispatch", "nfsd.proc.read"],
    "sunrpc.clnt.*, sunrpc.svc.*, sunrpc.sched.*, sunrpc.entry/return": ["sunrpc.clnt.call_sync",
                                                                         "sunrpc.sched.execute"],
}



def _sdt_program() -> str | None:
    """A program of this machine with SDT notes, and one of its marks."""
    from ftstap.kernel.symbols import ElfFile
    for path in ("/usr/bin/python3.11", "/usr/bin/python3", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"):
        try:
            notes = ElfFile(os.path.realpath(path)).sdt_notes() if os.path.exists(path) else []
        except Exception:
            continue
        if notes:
            return f'process("{os.path.realpath(path)}").mark("{notes[0].name}")'
    return None


SDT = _sdt_program()
if SDT:
    EXAMPLES['process("P").mark("M")'] = [SDT]
# rows that are not probe points (what a handler may use)
NOT_POINTS = {"kernel $var, $var->field, @cast", "backtrace(), print_backtrace()"}


def binds(point: str, last_pass: str = "2") -> tuple[bool, str]:
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p" + last_pass, "-T", "0.1", "-e",
                        f"probe {point} {{ println(1) }}"], capture_output=True, text=True, timeout=300)
    return r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def rows(tfs):
    return [r for r in probe_support(KernelFeatures.detect()) if r.family not in NOT_POINTS]


def test_every_served_row_binds(rows):
    served = [r for r in rows if r.status != "no"]
    missing = [r.family for r in served if r.family not in EXAMPLES]
    assert not missing, f"served rows without a representative probe point here: {missing}"
    bad = {}
    for r in served:
        for point in EXAMPLES[r.family]:
            ok, err = binds(point)
            if not ok:
                bad[point] = err.splitlines()[0] if err else "?"
    assert not bad, bad


def test_unserved_rows_do_not_run(rows):
    bad = [p for r in rows if r.status == "no" for p in EXAMPLES.get(r.family, [])[:1] if binds(p, "5")[0]]
    assert not bad, f"--probe-support says no, yet it runs: {bad}"
