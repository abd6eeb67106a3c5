"""The syscall tapset's `_*_str` helpers stap scripts call directly
(tapsets/aux_lookup.stp, aux_signals.stp, aux_ipc.stp, aux_ptrace.stp,
aux_wait.stp, aux_struct.stp, aux_siginfo.stp, aux_sockaddr.stp): each
decoder against values from Linux's UAPI headers, in stap's formats (flag
names joined by |, unknown bits in hex, "0x0" for a zero without a name),
and the user-memory readers' answers for a NULL and an unreadable address.
One `probe begin` script prints every case; the test compares line by line."""
import subprocess
import sys

# (expression, what stap prints)
CASES = [
    ("_epoll_events_str(1)", "EPOLLIN"),
    ("_epoll_events_str(1|4)", "UNKNOWN VALUE: 5"),        # stap's old decoder names single values only
    ("_epoll_create1_flag_str(0x80000)", "EPOLL_CLOEXEC"),
    ("_eventfd2_flag_str(0x80800)", "EFD_NONBLOCK|EFD_CLOEXEC"),
    ("_signalfd4_flags_str(0)", "0x0"),
    ("_getrandom_flags_str(1|2|0x40)", "GRND_NONBLOCK|GRND_RANDOM|0x40"),
    ("_mfd_flags_str(3)", "MFD_CLOEXEC|MFD_ALLOW_SEALING"),
    ("_stp_mlock2_str(1)", "MLOCK_ONFAULT"),
    ("_module_flags_str(0x800)", "O_NONBLOCK"),
    ("_stp_timerfd_flags_str(0x80001)", "TFD_TIMER_ABSTIME|TFD_CLOEXEC"),
    ("_stp_fallocate_mode_str(3)", "FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE"),
    ("_sync_file_range_flags_str(7)", "SYNC_FILE_RANGE_WAIT_BEFORE|SYNC_FILE_RANGE_WRITE|SYNC_FILE_RANGE_WAIT_AFTER"),
    ("_stp_xattr_flags_str(2)", "XATTR_REPLACE"),
    ("_mempolicy_flags_str(3)", "MPOL_F_NODE|MPOL_F_ADDR"),
    ("_finit_module_flags_str(2)", "MODULE_INIT_IGNORE_VERMAGIC"),
    ("_kexec_flags_str(0x3e0001)", "KEXEC_ON_CRASH|KEXEC_ARCH_X86_64"),
    ("_kexec_flags_str(0)", "KEXEC_ARCH_DEFAULT"),
    ("_kexec_file_load_flags_str(6)", "KEXEC_FILE_ON_CRASH|KEXEC_FILE_NO_INITRAMFS"),
    ("_shmat_flags_str(0x1000)", "SHM_RDONLY"),
    ("irqflags_str(0x2080)", "IRQF_SHARED|IRQF_ONESHOT"),
    ("_seccomp_op_str(1)", "SECCOMP_SET_MODE_FILTER"),
    ("_bpf_cmd_str(5)", "BPF_PROG_LOAD"),
    ("_bpf_cmd_str(0x23)", "BPF_PROG_BIND_MAP"),         # an item in the table's second part
    ("_bpf_cmd_str(99)", "0x63"),
    ("_sock_family_str(2)", "AF_INET"),
    ("_sock_family_str(0x2d)", "AF_MCTP"),              # past 511 characters of one table: it was cut
    ("_sock_family_str(0x2c)", "AF_XDP"),
    ("_membarrier_cmd_str(8)", "MEMBARRIER_CMD_PRIVATE_EXPEDITED"),
    ("_opoll_op_str(3)", "EPOLL_CTL_MOD"),
    ("_stp_elf_notes_str(0x202)", "NT_X86_XSTATE"),
    ("_nfsctl_cmd_str(7)", "NFSCTL_GETFD"),
    ("_statfs_f_type_str(0xef53)", "EXT2_SUPER_MAGIC"),
    ("_statfs_f_type_str(0x58465342)", "XFS_SUPER_MAGIC"),
    ("_statfs_f_type_str(7)", "UNKNOWN VALUE: 7"),
    ("_sendflags_str(0x40)", "MSG_DONTWAIT"),
    ("_futex_wake_op_str(0x24001001)", "{FUTEX_OP_OR, 1, FUTEX_OP_CMP_GT, 1}"),
    ("_futex_wake_op_str(0x80fff000)", "{FUTEX_OP_OPARG_SHIFT|FUTEX_OP_SET, -1, FUTEX_OP_CMP_EQ, 0}"),
    ("_adjtimex_return_str(5)", "5 (TIME_ERROR)"),
    ("_adjtimex_return_str(9)", "9 (9)"),
    ("_adjtx_mode_str(0x4003)", "ADJ_OFFSET|ADJ_FREQUENCY|ADJ_TICK"),
    ("_adjtx_mode_str(0x8001)", "ADJ_OFFSET_SINGLESHOT"),
    ("_sys_open_mode_str(0644)", "S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR"),
    ("_sys_open_mode_str(0750)", "S_IXGRP|S_IRGRP|S_IRWXU"),
    ("_sys_open_mode_str(04000)", "04000"),           # no permission bit: the mode in octal
    # signals
    ("_signal_name(9)", "SIGKILL"),
    ("_signal_name(29)", "SIGIO/SIGPOLL"),
    ("_signal_name(0)", "SIG_0"),
    ("_signal_name(40)", "0x28"),
    ("_stp_sigmask_str(0)", "[EMPTY]"),
    ("_stp_sigmask_str((1 << 1) | (1 << 14))", "[SIGINT|SIGTERM]"),
    ("_sighandler_str(1)", "SIG_IGN"),
    ("_sighandler_str(0x401000)", "0x401000"),
    ("__fork_flags(0x1200011)", "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"),
    ("__fork_flags(17)", "0x0|SIGCHLD"),
    ("__fork_flags(0x10f00)", "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD"),
    # IPC
    ("__sem_flags(0x200 | 0600)", "IPC_CREAT|0600"),
    ("__sem_flags(0)", ""),
    ("_semctl_cmd(0x100 | 16)", "IPC_64|SETVAL"),
    ("_stp_msgctl_cmd_str(2)", "IPC_STAT"),
    ("_stp_shmget_flags_str(0x200 | 0x800 | 0640)", "IPC_CREAT|SHM_HUGETLB|0640"),
    ("_stp_shmget_flags_str(0640)", "0x0|0640"),
    ("_stp_msgget_key_str(0)", "IPC_PRIVATE"),
    ("_stp_msgget_key_str(1234)", "1234"),
    # wait statuses and narrowing
    ("WIFEXITED(0x300)", "1"), ("WEXITSTATUS(0x300)", "3"),
    ("WIFSIGNALED(0x89)", "1"), ("WTERMSIG(0x89)", "9"), ("WCOREDUMP(0x89)", "128"),
    ("WIFSTOPPED(0x137f)", "1"), ("WSTOPSIG(0x137f)", "19"), ("WIFCONTINUED(0xffff)", "1"),
    ("_ptrace_event_name(4)", "PTRACE_EVENT_EXEC"), ("_ptrace_event_name(9)", ""),
    ("__short(0xffff)", "-1"), ("__ushort(-1)", "65535"), ("__int32(0xfffffffe)", "-2"),
    ("__uint32(-1)", "4294967295"), ("__long(-5)", "-5"), ("__ulong(7)", "7"),
    # ptrace / prctl
    ("__ptrace_request_str(0x4206)", "PTRACE_SEIZE"),
    ("_ptrace_argstr(0x4200, 42, 0, 0x19)",
     "PTRACE_SETOPTIONS, 42, 0x0, PTRACE_O_TRACECLONE|PTRACE_O_TRACEEXEC|PTRACE_O_TRACESYSGOOD"),
    ("_ptrace_argstr(7, 42, 0, 9)", "PTRACE_CONT, 42, 0x0, SIGKILL"),
    ("_ptrace_argstr(0x10, 42, 0, 0)", "PTRACE_ATTACH, 42, 0x0, 0x0"),
    ("_ptrace_return_geteventmsg_data(7, 0)", "0"),
    ("_prctl_argstr(15, 0x1000, 0, 0, 0)", "PR_SET_NAME, 0x1000"),
    ("_prctl_argstr(3, 0, 0, 0, 0)", "PR_GET_DUMPABLE"),
    ("_prctl_argstr(4, 1, 0, 0, 0)", "PR_SET_DUMPABLE, 1"),
    ("_prctl_argstr(24, 21, 0, 0, 0)", "PR_CAPBSET_DROP, CAP_SYS_ADMIN"),
    ("_prctl_argstr(0x59616d61, -1, 0, 0, 0)", "PR_SET_PTRACER, PR_SET_PTRACER_ANY"),
    ("_prctl_argstr(33, 1, 1, 0, 0)", "PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY"),
    ("_prctl_argstr(0x1000, 1, 2, 3, 4)", "0x1000, 0x1, 0x2, 0x3, 0x4"),
    # user-memory readers: NULL, and an address no process maps (8)
    ("_struct_compat_timeval_u(0, 1)", "NULL"), ("_struct_compat_timeval_u(8, 1)", "0x8"),
    ("_struct_compat_timespec_u(8, 2)", "0x8"), ("_struct_compat_itimerval_u(0)", "NULL"),
    ("_struct_compat_itimerspec_u(8)", "0x8"), ("_struct_compat_timex_u(0)", "NULL"),
    ("_struct_compat_utimbuf_actime(8)", "0"), ("_struct_compat_utimbuf_modtime(0)", "0"),
    ("_struct_tms_u(8)", "0x8"), ("_struct_sysinfo_u(0)", "NULL"), ("_struct_sched_attr_u(8)", "0x8"),
    ("_stp_struct_iovec_u(0)", "NULL"), ("_stp_struct_compat_iovec_u(8)", "0x8"),
    ("get_mmap_args(0)", "0x0"), ("_fildes_index_u(8, 0)", "0"),
    ("__get_compat_argv(0, 0)", "[]"), ("__get_compat_argv(8, 0)", "[0x8]"),
    ("__count_compat_envp(0)", "[/* 0 vars */]"),
    ("_stp_compat_sigset_u(0)", "NULL"), ("_stp_compat_sigset_u(8)", "0x8"),
    ("_struct_sigaction_u(0)", "NULL"), ("_struct_sigaction32_u(8)", "0x8"),
    ("_struct_old_sigaction32_u(0)", "NULL"),
    ("_stp_siginfo_u(0)", "NULL"), ("_stp_compat_siginfo_u(8)", "0x8"),
    ("_stp_sigaltstack_u(0)", "0x0"), ("_stp_compat_sigaltstack_u(8)", "0x8"),
    ("_stp_compat_msgrcv_msgbuf(8, 1)", "8"), ("_stp_compat_msgrcv_msgbuf(8, 0)", "0"),
    ("_stp_compat_msgrcv_msgtyp(8, 0, 3)", "3"),
    ("_struct_sockaddr_u_impl(0, 16, 1)", "NULL"), ("_struct_sockaddr_u_impl(8, 16, 1)", "{...}"),
    ("_struct_sockaddr_u_ipv6_flowinfo(0, 28)", "NULL"), ("_struct_sockaddr_u_ipv6_scope_id(8, 28)", "{...}"),
]


def run(script):
    return subprocess.run([sys.executable, "-m", "ftstap", "-e", script], capture_output=True, text=True,
                          timeout=120)


def test_helpers_print_what_stap_prints():
    body = "".join(f'printf("%s\\n", sprint({expr}))\n' for expr, _ in CASES)
    p = run("probe begin {\n" + body + "exit()\n}")
    assert p.returncode == 0, p.stderr
    got = p.stdout.split("\n")[:-1]
    assert len(got) == len(CASES), p.stdout
    wrong = [(expr, want, out) for (expr, want), out in zip(CASES, got) if out != want]
    assert not wrong, wrong


def test_register_readers_fail_at_pass_2_with_the_reason():
    for call, why in (("_stp_syscall_nr()", "saved registers"), ("__is_user_regs(0)", "struct pt_regs")):
        p = run(f"probe begin {{ println({call}); exit() }}")
        assert p.returncode != 0 and "cannot be served" in p.stderr and why in p.stderr, p.stderr
        assert "Traceback" not in p.stderr


def test_no_table_literal_is_longer_than_a_string_can_hold():
    """A table passed to a function is a string: MAXSTRINGLEN - 1 (511)
    characters at most, the rest silently cut (AF_MCTP and AF_XDP were)."""
    import glob
    import os
    import re
    root = os.path.join(os.path.dirname(__file__), "..", "..", "tapsets")
    long_ones = []
    for path in glob.glob(os.path.join(root, "*.stp")):
        text = open(path).read()
        for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
            if len(m.group(1)) > 511 and "(" in text[max(0, m.start() - 60):m.start()]:
                long_ones.append(f"{os.path.basename(path)}:{text[:m.start()].count(chr(10)) + 1}")
    assert long_ones == [], long_ones
