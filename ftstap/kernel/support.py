"""Which provider serves each probe family on a kernel: `ftstap --probe-support`.

Pass 2 makes the real choice per probe point; this is the overview a user
reads to learn why a script will or will not run here, naming the kernel
config option that is missing.
"""
from __future__ import annotations

from ..record import frozen

from ftstap.kernel.features import KernelFeatures


@frozen
class Support:
    family: str               # probe points, as a script spells them
    provider: str | None      # what serves them here; None: nothing does
    missing: str | None = None  # what is absent (config option), or a caveat

    @property
    def status(self) -> str:
        if self.provider is None:
            return "no"
        return "partial" if self.missing else "yes"


def _tracepoints(f: KernelFeatures, family: str, events: list[str]) -> Support:
    """A family served by a fixed set of tracepoints ("sys:event")."""
    if f.events_root is None:
        return Support(family, None, f"tracefs ({f.tracefs_error})")
    have = [e for e in events if f.has_tracepoint(*e.split(":"))]
    lost = [e for e in events if e not in have]
    if not have:
        return Support(family, None, "tracepoints " + ", ".join(events))
    return Support(family, "tracepoints " + ", ".join(have),
                   ("no tracepoint " + ", ".join(lost)) if lost else None)


def _unseen(f: KernelFeatures, config: str) -> str:
    """What is missing, said honestly when tracefs cannot be read (not root):
    then its files cannot show whether the kernel has config."""
    if f.events_root is None:
        return f"unknown whether the kernel has {config}: tracefs ({f.tracefs_error})"
    return config


def _kprobe(f: KernelFeatures, family: str, what: str) -> Support:
    btf = "" if f.btf else "; no BTF, so no $argument names (CONFIG_DEBUG_INFO_BTF)"
    if f.kprobe_events:
        return Support(family, f"kprobe_events {what}", btf[2:] or None)
    if f.kprobe_pmu is not None:
        return Support(family, f"kprobe PMU (perf type {f.kprobe_pmu}) {what}", btf[2:] or None)
    # no kprobe PMU: no CONFIG_KPROBE_EVENTS, whatever tracefs would say
    return Support(family, None, "CONFIG_KPROBES and CONFIG_KPROBE_EVENTS; functions "
                                 "covered by a tracepoint (syscalls) still work")


def _uprobe(f: KernelFeatures, family: str, what: str) -> Support:
    if f.uprobe_events:
        return Support(family, f"uprobe_events {what}")
    if f.uprobe_pmu is not None:
        return Support(family, f"uprobe PMU (perf type {f.uprobe_pmu}) {what}",
                       "no fetch-args without uprobe_events: " + _unseen(f, "CONFIG_UPROBE_EVENTS"))
    return Support(family, None, "CONFIG_UPROBES and CONFIG_UPROBE_EVENTS")


def _pmu(f: KernelFeatures, family: str, pmu: int | str | None, what: str, missing: str) -> Support:
    return Support(family, what, None) if pmu is not None else Support(family, None, missing)


def probe_support(f: KernelFeatures) -> list[Support]:
    rows = [Support("begin, end, error, never", "ftstap itself")]

    # syscalls: per-syscall tracepoints, else raw_syscalls + the syscall table
    n = sum(1 for e in f.tracepoint_events("syscalls") if e.startswith("sys_enter_"))
    fam = "syscall.*, nd_syscall.*"
    if n:
        rows.append(Support(fam, f"tracepoints syscalls:sys_enter_*/sys_exit_* ({n} syscalls)"))
    elif f.has_tracepoint("raw_syscalls", "sys_enter"):
        rows.append(Support(fam, "tracepoints raw_syscalls:sys_enter/sys_exit + syscall table",
                            "per-syscall tracepoints (CONFIG_FTRACE_SYSCALLS): no argument names"))
    else:
        rows.append(Support(fam, None, _unseen(f, "CONFIG_FTRACE_SYSCALLS")))

    systems = f.tracepoint_systems()
    rows.append(Support('kernel.trace("SYS:EVENT")',
                        f"tracepoints ({len(systems)} systems)" if systems else None,
                        None if systems else f"CONFIG_TRACEPOINTS / tracefs "
                                             f"({f.tracefs_error or 'no events'})"))

    rows.append(_kprobe(f, 'kernel.function("F"), kprobe.function("F")', "p:"))
    rows.append(_kprobe(f, 'kernel.function("F").return', "r: (kretprobe)"))
    rows.append(_kprobe(f, "kernel.statement(ADDR), kprobe.statement", "p: at an offset"))
    mod = _kprobe(f, 'module("M").function("F")', "p: MOD:F")
    if f.config_known and f.config("MODULES") is None:
        mod = Support(mod.family, None, "CONFIG_MODULES (this kernel loads no modules)")
    rows.append(mod)

    rows.append(_uprobe(f, 'process("P").function("F"), .return, .statement', "p:/r: with fetch-args"))
    mark = _uprobe(f, 'process("P").mark("M")', "p: at SDT note sites")
    if mark.provider and f.version < (4, 20, 0):
        mark = Support(mark.family, mark.provider, "no SDT semaphores before Linux 4.20")
    rows.append(mark)
    rows.append(_tracepoints(f, "process[(\"P\")|(PID)][.thread].begin/.end",
                             ["sched:sched_process_exec", "sched:sched_process_exit", "task:task_newtask",
                              "raw_syscalls:sys_exit"]))
    rows.append(_tracepoints(f, "process.syscall, process.syscall.return",
                             ["raw_syscalls:sys_enter", "raw_syscalls:sys_exit"]))
    rows.append(_tracepoints(f, "scheduler.*",
                             ["sched:sched_switch", "sched:sched_wakeup", "sched:sched_migrate_task",
                              "sched:sched_process_fork", "sched:sched_kthread_stop", "sched:sched_wait_task"]))
    rows.append(_kprobe(f, "scheduler.tick, kprocess.start, __scheduler.*.kp", "with BTF-typed arguments"))
    rows.append(_tracepoints(f, "kprocess.create/exec/exec_complete/exit/release",
                             ["sched:sched_process_fork", "sched:sched_process_exec", "sched:sched_process_exit",
                              "sched:sched_process_free"]))
    rows.append(_tracepoints(f, "signal.send/deliver/handle/check_ignored",
                             ["signal:signal_generate", "signal:signal_deliver"]))
    rows.append(_tracepoints(f, "signal.syskill/systkill/systgkill/procmask/pending/send_sig_queue",
                             ["syscalls:sys_enter_kill", "syscalls:sys_enter_tkill", "syscalls:sys_enter_tgkill",
                              "syscalls:sys_enter_rt_sigprocmask", "syscalls:sys_enter_rt_sigpending",
                              "syscalls:sys_enter_rt_sigqueueinfo"]))
    rows.append(_kprobe(f, "signal.checkperm/wakeup/force_segv/do_action/flush", "with BTF-typed arguments"))
    rows.append(_tracepoints(f, "netdev.receive, netdev.transmit",
                             ["net:netif_receive_skb", "net:net_dev_queue"]))
    rows.append(_tracepoints(f, "udp.sendmsg.return, udp.recvmsg.return",
                             ["sock:sock_send_length", "sock:sock_recv_length"]))
    rows.append(_kprobe(f, "udp.sendmsg, udp.recvmsg, udp.disconnect", "with BTF-typed arguments"))
    rows.append(_tracepoints(f, "tcp.sendmsg.return, tcp.recvmsg.return",
                             ["sock:sock_send_length", "sock:sock_recv_length"]))
    rows.append(_tracepoints(f, "tcp.receive, tcp.ipv4.receive, tcp.ipv6.receive (established sockets)",
                             ["tcp:tcp_probe"]))
    rows.append(_kprobe(f, "tcp.sendmsg, tcp.recvmsg, tcp.disconnect, tcp.setsockopt (+ .return)",
                        "with BTF-typed arguments"))
    rows.append(_tracepoints(f, "socket.send, socket.receive, socket.sendmsg.return, socket.recvmsg.return",
                             ["sock:sock_send_length", "sock:sock_recv_length"]))
    rows.append(_kprobe(f, "socket.sendmsg, socket.recvmsg, socket.create, socket.close (+ .return)",
                        "with BTF-typed arguments"))
    rows.append(_kprobe(f, "netdev.register/unregister/open/close/change_mtu/change_mac/"
                           "set_promiscuity/ioctl/get_stats", "with BTF-typed arguments"))
    if f.kprobe_events:
        rows.append(_kprobe(f, "vfs.read/write/readv/writev/open (+ .return)", "on vfs_* (exact)"))
    else:
        vfs = _tracepoints(f, "vfs.read/write/readv/writev/open (+ .return)",
                           ["syscalls:sys_enter_read", "syscalls:sys_enter_write",
                            "syscalls:sys_enter_readv", "syscalls:sys_enter_writev",
                            "syscalls:sys_enter_openat"])
        if vfs.provider:
            vfs = Support(vfs.family, vfs.provider, "approximate: the syscalls that reach the VFS, "
                          "no struct file (exact with CONFIG_KPROBE_EVENTS)")
        rows.append(vfs)
    rows.append(_kprobe(f, "generic.fop.llseek/open/mmap/read_iter/write_iter/splice_read/splice_write",
                        "with BTF-typed arguments"))
    rows.append(Support("netfilter.*", None, "a kernel module's nf_register_net_hook (ftstap loads none)"))
    rows.append(_tracepoints(f, "ioblock.request/end, ioblock_trace.request/end",
                             ["block:block_bio_queue", "block:block_bio_complete"]))
    rows.append(_tracepoints(f, "ioscheduler.*, ioscheduler_trace.*",
                             ["block:block_rq_insert", "block:block_rq_issue", "block:block_rq_complete",
                              "block:block_rq_requeue", "block:block_plug", "block:block_unplug"]))
    from .support_modules import module_family_support
    rows.extend(Support(*row) for row in module_family_support(f, _kprobe))
    rows.append(_tracepoints(f, "workqueue.insert, workqueue.execute",
                             ["workqueue:workqueue_queue_work", "workqueue:workqueue_execute_start"]))
    rows.append(_kprobe(f, "workqueue.create, workqueue.destroy", "with BTF-typed arguments"))
    rows.append(_kprobe(f, "tty.*", "with BTF-typed arguments"))
    rows.append(_tracepoints(f, "tcpmib.* but InSegs, OutSegs",
                             ["sock:inet_sock_set_state", "tcp:tcp_send_reset", "tcp:tcp_retransmit_skb"]))
    rows.append(_kprobe(f, "tcpmib.InSegs/OutSegs, ipmib.*, linuxmib.*", "with BTF-typed arguments"))
    rows.append(_tracepoints(f, "irq_handler.entry/exit, softirq.entry/exit",
                             ["irq:irq_handler_entry", "irq:irq_handler_exit",
                              "irq:softirq_entry", "irq:softirq_exit"]))
    rows.append(_tracepoints(f, "vm.pagefault, vm.kmalloc/kfree/kmem_cache_*, vm.mmap/munmap, vm.oom_kill",
                             ["exceptions:page_fault_user", "kmem:kmalloc", "kmem:kfree",
                              "kmem:kmem_cache_alloc", "syscalls:sys_enter_mmap", "oom:mark_victim"]))
    rows.append(_kprobe(f, "vm.pagefault.return, vm.write_shared, vm.brk, __vm.*.kp",
                        "with BTF-typed arguments"))

    rows.append(Support("timer.s/ms/us/ns/hz/jiffies(N)", "timerfd in the event loop"))
    rows.append(_pmu(f, "timer.profile, timer.profile.tick, timer.profile.freq.hz(N)", f.software_pmu,
                     "perf software event cpu-clock (sampling)", "CONFIG_PERF_EVENTS"))
    rows.append(_pmu(f, "perf.sw.*", f.software_pmu, "perf software events",
                     "CONFIG_PERF_EVENTS"))
    rows.append(_pmu(f, "perf.hw.*", f.hardware_pmu, f"hardware PMU '{f.hardware_pmu}'",
                     "a hardware PMU (none: a virtual machine without PMU passthrough?)"))
    # the kernel may have the breakpoint PMU, but ftstap's event layer opens no
    # breakpoint events (bp_type/bp_addr/bp_len) yet
    rows.append(Support("kernel.data(ADDR), process.data(ADDR)", None,
                        "watchpoints on the breakpoint PMU are not implemented in ftstap yet"
                        + ("" if f.breakpoint_pmu is not None else " (and CONFIG_HAVE_HW_BREAKPOINT is off)")))

    rows.append(Support("kernel $var, $var->field, @cast",
                        "BTF /sys/kernel/btf/vmlinux" if f.btf else None,
                        None if f.btf else "CONFIG_DEBUG_INFO_BTF"))
    rows.append(Support("backtrace(), print_backtrace()",
                        "perf callchains + /proc/kallsyms",
                        None if f.kallsyms_addresses else
                        "kallsyms addresses are hidden (kernel.kptr_restrict, or not root): "
                        "no kernel symbols"))
    return rows


def probe_support_table(f: KernelFeatures | None = None) -> str:
    """The text of `ftstap --probe-support` for f (default: this kernel)."""
    f = f or KernelFeatures.current()
    rows = probe_support(f)
    w = max(len(r.family) for r in rows)
    head = (f"Linux {f.release} {f.arch}, {f.online_cpus} CPUs"
            + (f" (snapshot {f.snapshot})" if f.snapshot else ""))
    out = [head, "", f"{'PROBE POINTS':<{w}}  {'STATUS':<7}  PROVIDER ON THIS KERNEL / WHAT IS MISSING"]
    for r in rows:
        text = r.provider or f"missing: {r.missing}"
        out.append(f"{r.family:<{w}}  {r.status:<7}  {text}")
        if r.provider and r.missing:
            out.append(f"{'':<{w}}  {'':<7}  note: {r.missing}")
    return "\n".join(out) + "\n"
