"""Tapset functions that need no kernel memory (errno, time, context,
proc_mem, indent, user-memory variants): the exact text stap prints, run
through the real command line."""
import os
import platform
import re
import subprocess
import sys

import pytest


def ftstap(script: str, *flags: str, env: dict | None = None):
    p = subprocess.run([sys.executable, "-m", "ftstap", *flags, "-e", script], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout, p.stderr


def lines(body: str, *flags: str, env: dict | None = None) -> list[str]:
    rc, out, err = ftstap("probe begin { " + body + " exit() }", *flags, env=env)
    assert rc == 0, err
    return out.split("\n")[:-1]


def test_errno_str_and_errno_p():
    assert lines('println(errno_str(1)); println(errno_str(-2)); println(errno_str(0)); '
                 'println(errno_str(41)); println(errno_str(-131)); println(errno_str(132)); '
                 'println(errno_str(-9999)); println(errno_str(11)); println(errno_str(95)); '
                 'println(errno_p(-13)); println(errno_p(58)); println(errno_p(0))') == [
        "EPERM", "ENOENT", "", "", "ENOTRECOVERABLE", "", "", "EAGAIN", "EOPNOTSUPP", "13", "0", "0"]


def test_return_str_formats():
    assert lines('println(return_str(1, -2)); println(return_str(2, -2)); println(return_str(1, 42)); '
                 'println(return_str(2, 255)); println(return_str(3, 8)); println(return_str(3, 0)); '
                 'println(return_str(1, -4096)); println(return_str(2, -4096)); println(return_str(9, 7))') == [
        "-2 (ENOENT)", "-2 (ENOENT)", "42", "0xff", "010", "00", "-4096", "0xfffffffffffff000", "7"]


def test_ctime_of_edges_and_leap_days():
    assert lines('println(ctime(0)); println(ctime(1000000000)); println(ctime(951782400)); '
                 'println(ctime(2147483647)); println(ctime(-2147483648)); println(ctime(-1))') == [
        "Thu Jan  1 00:00:00 1970", "Sun Sep  9 01:46:40 2001", "Tue Feb 29 00:00:00 2000",
        "Tue Jan 19 03:14:07 2038", "Fri Dec 13 20:45:52 1901", "Wed Dec 31 23:59:59 1969"]


def test_ctime_out_of_range_is_a_catchable_error():
    assert lines('try { println(ctime(2147483648)) } catch (m) { println(m) } '
                 'try { println(ctime(-2147483649)) } catch (m) { println(m) } '
                 'println(strlen(ctime()))') == [
        "Time too far in the future to be converted", "Time too far in the past to be converted", "24"]
    rc, out, err = ftstap("probe begin { println(ctime(1 << 40)); exit() }")
    assert rc == 1 and "ERROR: Time too far in the future to be converted" in err


def test_time_zone_functions():
    assert lines('println(tz_name()); println(tz_gmtoff()); println(tz_ctime(0))', env={"TZ": "XYZ-2"}) \
        == ["XYZ", "-7200", "Thu Jan  1 02:00:00 1970 XYZ"]
    assert lines('println(tz_ctime(86400))', env={"TZ": "UTC0"}) == ["Fri Jan  2 00:00:00 1970 UTC"]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the x86_64 system call table")
def test_syscall_name():
    assert lines('println(syscall_name(0)); println(syscall_name(59)); println(syscall_name(257)); '
                 'println(syscall_name(334)); println(syscall_name(435)); println(syscall_name(469)); '
                 'println(syscall_name(400)); println(syscall_name(-1)); println(syscall_name(100000))') == [
        "read", "execve", "openat", "rseq", "clone3", "file_setattr", "", "", ""]


def test_indent_and_depth():
    out = lines('me = sprintf("%s(%d):", execname(), tid()); println(me); '
                'println(thread_indent(1), "a"); println(thread_indent(1), "b"); '
                'println(thread_indent(-1), "c"); println(thread_indent(-1), "d"); '
                'println(indent(1), "x"); println(indent(-1), "y"); '
                'printf("%d %d %d %d %d\\n", indent_depth(1), indent_depth(1), indent_depth(-1), '
                'indent_depth(-1), indent_depth(0))')
    me = re.escape(out[0])
    assert re.fullmatch(r"     0 " + me + "a", out[1])
    assert re.fullmatch(r" {0,5}\d+ " + me + " b", out[2])
    assert re.fullmatch(r" {0,5}\d+ " + me + " c", out[3])
    assert re.fullmatch(r" {0,5}\d+ " + me + "d", out[4])
    assert out[5:7] == ["     0 :x", re.match(r" *\d+ :", out[6]).group(0) + "y"]
    assert out[7] == "0 1 1 0 0"


def test_cmdline_and_env_var_of_the_current_process():
    # In a begin probe the current process is ftstap itself (stapio for stap).
    out = lines('println(env_var("FT_TAPSET_TEST")); println(env_var("FT_NO_SUCH_VAR") == ""); '
                'println(cmdline_args(1, 2, "|")); println(cmdline_arg(2)); println(cmdline_arg(99) == ""); '
                'println(cmdline_args(99, -1, ",") == ""); println(cmdline_str() == cmdline_args(0, -1, " ")); '
                'println(pgrp()); println(sid()); println(ns_pid() == pid() && ns_tid() == tid()); '
                'println(remote_id()); println(remote_uri() == "")',
                env={"FT_TAPSET_TEST": "a=b c"})
    # ftstap inherits this process's group and session (0 when CI runs it outside any session)
    assert out == ["a=b c", "1", "-m|ftstap", "ftstap", "1", "1", "1", str(os.getpgrp()), str(os.getsid(0)),
                   "1", "-1", "1"]


def test_bytes_to_string_and_proc_mem():
    out = lines('println(bytes_to_string(0)); println(bytes_to_string(1023)); println(bytes_to_string(1024)); '
                'println(bytes_to_string(1536)); println(bytes_to_string(10 * 1024 + 1000)); '
                'println(bytes_to_string(999 * 1024)); println(bytes_to_string(5 << 20)); '
                'println(bytes_to_string(123 << 30)); println(bytes_to_string(20000 << 30)); '
                'println(bytes_to_string(-5)); println(pages_to_string(0)); '
                'println(proc_mem_size() > proc_mem_rss() && proc_mem_rss() > 0); '
                'println(proc_mem_size(999999999)); println(proc_mem_string(0)); println(proc_mem_string())')
    assert out[:12] == ["    0", " 1023", "1.00K", "1.50K", "10.9K", " 999K", "5.00M", " 123G", "20000G",
                        "   -5", "    0", "1"]
    assert out[12] == "0"
    assert out[13] == "size:     0, rss:     0, shr:     0, txt:     0, data:     0"
    assert re.fullmatch(r"size: .{5}, rss: .{5}, shr: .{5}, txt: .{5}, data: .{5}", out[14])


def test_clocks():
    out = lines('println(HZ()); j = jiffies(); println(j > 4294967296 - 300 * HZ()); '
                'println(cpu_clock_ns(0) / 1000000 - cpu_clock_ms(1) <= 1); '
                'println(cpu_clock_s(0) == local_clock_s() || cpu_clock_s(0) == local_clock_s() - 1)')
    assert out[0] in ("100", "250", "300", "1000") and out[1:] == ["1", "1", "1"]


def test_user_memory_variants_without_memory():
    rc, out, err = ftstap('probe begin { println(user_string(0, "bad")); println(user_string_n(0, 4, "b4")); '
                          'println(user_string_quoted(0)); println(user_string_n_quoted(16, 4, 10)); '
                          'println(user_int(0)); println(user_ushort(0)); println(user_string_warn(0) == ""); '
                          'println(user_long_warn(16)); '
                          'try { user_int_error(0) } catch (m) { println(m) } exit() }')
    assert rc == 0, err
    assert out.split("\n")[:-1] == ["bad", "b4", "0x0", "0x10", "0", "0", "1", "0",
                                    "user int copy fault -14 at 0x0 [man error::fault]"]
    assert "WARNING: user string copy fault -14 at 0x0" in err
    assert "WARNING: user long copy fault 0x0000000000000010 [man error::fault]" in err


def test_string_edges():
    assert lines('s = "Hello"; println(substr(s, 5, 1) == ""); println(substr(s, -1, 3) == ""); '
                 'println(substr(s, 3, 99)); println(substr(s, 1, 0) == ""); '
                 't = tokenize("a,,b;c", ",;"); while (t != "") { print(t, "/"); t = tokenize("", ",;") } '
                 'println(); println(isdigit("7x"), isdigit("x7"), isdigit("")); '
                 'println(strtol("-0x10", 16), " ", strtol("z", 36)); '
                 'try { println(stringat(s, 5)) } catch (m) { println(m) }') == [
        "1", "1", "lo", "1", "a/b/c/", "100", "-16 35", "Invalid string position 5"]


def test_task_handles_answer_from_proc():
    out = lines('t = task_current(); println(t == task_current() && t != 0); '
                'println(task_pid(t) == pid() && task_tid(t) == tid()); println(task_execname(t) == execname()); '
                'println(task_pid(task_parent(t)) == ppid()); println(task_execname(pid2task(ppid())) == pexecname()); '
                'println(task_uid(t) == uid() && task_euid(t) == euid() && task_gid(t) == gid()); '
                'println(task_egid(t) == egid() && task_pid(t) == pid()); '
                'println(task_state(t)); println(task_nice(t), " ", task_prio(t) - task_nice(t)); '
                'println(task_cpu(t) >= 0 && task_cpu(t) < num_online_cpus() * 64); '
                'println(task_open_file_handles(t) >= 3 && task_max_file_handles(t) >= 64); '
                'println(pid2task(0), " ", pid2task(999999999)); '
                'try { println(task_pid(12345)) } catch (m) { println(m) }')
    assert out[:7] == ["1"] * 7
    assert out[7] == "0"                            # running
    assert out[8] == f"{os.nice(0)} 20"
    assert out[9:11] == ["1", "1"] and out[11] == "0 0"
    assert out[12] == ("task_pid(0x3039): not a task from task_current(), pid2task() or task_parent(); "
                       "ftstap cannot read a task_struct from kernel memory")


def test_durations_and_task_times():
    out = lines('println(msecs_to_string(12908)); println(msecs_to_string(66851)); println(usecs_to_string(1500000)); '
                'println(nsecs_to_string(63000000005)); println(msecs_to_string(0)); '
                'println(cputime_to_msecs(2500000000), " ", cputime_to_usecs(1500)); '
                'println(cputime_to_string(61001000000)); '
                'println(task_utime() >= 0 && task_stime(tid()) >= 0 && task_utime(999999999) == 0); '
                'println(task_start_time(pid()) > 0); '
                'println(task_time_string())')
    assert out[:9] == ["0m12.908s", "1m6.851s", "0m1.500000s", "1m3.000000005s", "0m0.000s", "2500 1",
                       "1m1.001s", "1", "1"]
    assert re.fullmatch(r"usr: \d+m\d+\.\d{3}s, sys: \d+m\d+\.\d{3}s", out[9])


@pytest.mark.parametrize("call, why", [
    ("task_cwd_path(task_current())", "it reads a file or path through a task's files in kernel memory"),
    ("returnval()", "it reads the probe's saved registers"),
    ("stack_used()", "it measures the kernel stack"),
    ("kernel_buffer_quoted(0, 4)", "it reads a kernel buffer or string in kernel memory"),
])
def test_kernel_only_functions_fail_at_pass_2_saying_why(call, why):
    rc, out, err = ftstap(f"probe begin {{ println({call}) }}", "-p2")
    name = call.split("(")[0]
    assert rc == 1 and f"semantic error: function '{name}' cannot be served: {why}" in err
    assert "Traceback" not in err and "Pass 2: analysis failed." in err


def test_tapset_locals_do_not_collide_with_script_globals():
    # A name a tapset function assigns would be the script's global of that name.
    rc, out, err = ftstap('global i[1], s[1], n[1], u[1], bt[1], now[1], secs[1], msg[1], frac[1]; '
                          'probe begin { println(bytes_to_string(2048), " ", msecs_to_string(61500), " ", '
                          'callers(-1) == backtrace(), " ", ucallers(0) == "", " ", user_string_n_quoted(0, 1, 9), " ", '
                          'thread_indent_depth(1)); print_usyms(""); print(sprint_syms("")); exit() }')
    assert (rc, out) == (0, "2.00K 1m1.500s 1 1 0x0 0\n"), err


def test_endian():
    assert lines('printf("%x %x %x %x %x %x\\n", big_endian2(0x1234), big_endian4(0x12345678), '
                 'big_endian8(0x0102030405060708), little_endian2(0x123456), little_endian4(-1), '
                 'big_endian2(-2))') == ["3412 78563412 807060504030201 3456 ffffffff feff"]


def test_system_runs_the_command_after_the_output_so_far():
    rc, out, err = ftstap('probe begin { println("before"); system("echo from-shell; exit 3") } '
                          'probe timer.ms(500) { println("after"); exit() }')
    assert (rc, out) == (0, "before\nfrom-shell\nafter\n"), err


def test_is_myproc_and_registers_valid():
    assert lines('println(is_myproc(), registers_valid())') == ["10"]
