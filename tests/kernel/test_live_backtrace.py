"""Backtraces on the real kernel: PERF_SAMPLE_CALLCHAIN symbolized with
/proc/kallsyms (kernel frames) and /proc/PID/maps + ELF symbols (user
frames), through the whole pipeline (`python -m ftstap -c PROG -e ...`)."""
import os
import re
import subprocess
import sys

import pytest

from ftstap.kernel.symbols import Kallsyms

CHAIN_PROG = r"""
#include <unistd.h>
#include <sys/syscall.h>
int c(int x) { syscall(SYS_getppid); return x + 1; }
int b(int x) { return c(x) * 2; }
int a(int x) { return b(x) + 3; }
int main(void) {
    int t = 0;
    for (int i = 0; i < 3; i++)
        t += a(i);
    return t == 21 ? 0 : 1;     /* prints nothing: stdout is the script's */
}
"""

LINE = re.compile(r"^ 0x([0-9a-f]{16}) : (\S+)\+0x([0-9a-f]+)/0x([0-9a-f]+) \[(\S+)\]$")


@pytest.fixture
def prog(tfs, need, cc):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    return cc(CHAIN_PROG, "chain", "-O0", "-fno-omit-frame-pointer")


def stap(prog: str, script: str, *extra: str) -> str:
    p = subprocess.run([sys.executable, "-m", "ftstap", *extra, "-c", prog, "-e", script],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    return p.stdout


def frames(text: str) -> list[tuple[int, str, int, str]]:
    """(address, symbol, offset, module) of each symbolized line."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            out.append((int(m.group(1), 16), m.group(2), int(m.group(3), 16), m.group(5)))
    return out


def test_uprobe_user_stack_c_b_a_main(prog):
    out = stap(prog, f'probe process("{prog}").function("c") {{ print_ubacktrace(); println("--"); exit() }}')
    stack = out.split("--")[0]
    got = frames(stack)
    assert [f[1] for f in got[:4]] == ["c", "b", "a", "main"], stack
    assert all(f[3] == prog for f in got[:4])
    assert got[0][2] == 0                     # stopped at c's first instruction
    assert all(f[2] > 0 for f in got[1:4])    # return addresses inside the callers


def test_ubacktrace_hex_matches_symbolized_frames(prog):
    out = stap(prog, f'probe process("{prog}").function("b") {{ '
                     f'println(ubacktrace()); print(sprint_ubacktrace()); exit() }}')
    first, rest = out.split("\n", 1)
    addrs = [int(x, 16) for x in first.split()]
    lines = [l for l in rest.splitlines() if l.startswith(" 0x")]
    assert addrs and len(addrs) == len(lines)
    assert addrs == [int(l.split()[0], 16) for l in lines]
    assert [f[1] for f in frames(rest)[:3]] == ["b", "a", "main"]


def test_tracepoint_kernel_stack_names_the_syscall_entry(prog, tfs, need):
    need(os.path.isdir(os.path.join(tfs, "events", "raw_syscalls", "sys_enter")), "raw_syscalls:sys_enter")
    out = stap(prog, 'probe kernel.trace("raw_syscalls:sys_enter") { if (pid() == target() && $id == 110) { '
                     'println(backtrace()); print_backtrace(); println("--"); print_ubacktrace(); exit() } }')
    hexes, rest = out.split("\n", 1)
    kernel, user = rest.split("--\n", 1)
    got = frames(kernel)
    assert got and all(f[3] == "kernel" for f in got), kernel
    names = [f[1] for f in got]
    assert any(n in ("do_syscall_64", "x64_sys_call") or n.startswith("entry_SYSCALL_64") for n in names), names
    # backtrace()'s hex addresses are the same frames, and kallsyms names them alike
    addrs = [int(x, 16) for x in hexes.split()]
    assert addrs == [f[0] for f in got]
    ks = Kallsyms.load()
    for line, addr in zip(kernel.splitlines(), addrs):
        assert line == f" 0x{addr:016x} : {ks.format_address(addr)}"
    # the user part of the same sample: libc's syscall() called from b (via c, whose frame
    # pointer the leaf syscall() does not show: the walk resumes in c's caller)
    assert "main" in [f[1] for f in frames(user)], user


def test_syscall_probe_kernel_stack_through_raw_syscalls(prog, tfs, need):
    # syscalls:sys_enter_* samples carry no kernel stack: a probe printing one is
    # opened on raw_syscalls with an id filter, and sees the same arguments
    need(os.path.isdir(os.path.join(tfs, "events", "raw_syscalls", "sys_exit")), "raw_syscalls:sys_exit")
    script = ('probe syscall.getppid, syscall.getppid.return { if (pid() == target()) { '
              'println(pp(), " ", name, " ", is_return() ? retval : 0); print_backtrace(); println("--") } }')
    chunks = [c for c in stap(prog, script).split("--\n") if c.strip()]
    heads = [c.splitlines()[0] for c in chunks]
    assert len(chunks) == 6, chunks                   # 3 calls, entry and return
    assert heads.count("syscall.getppid getppid 0") == 3, heads
    rets = [h for h in heads if h.startswith("syscall.getppid.return getppid ")]
    assert len(rets) == 3 and all(int(h.split()[-1]) > 0 for h in rets), heads   # the parent's pid
    for c in chunks:
        names = [f[1] for f in frames(c)]
        assert any(n in ("do_syscall_64", "x64_sys_call") or n.startswith("entry_SYSCALL_64") for n in names), c


def test_syscall_probe_user_stack_and_end_probe_print_stack(prog):
    out = stap(prog, 'global bt  probe syscall.getppid { if (pid() == target()) bt[ubacktrace()]++ } '
                     'probe end { foreach (k in bt) { println(bt[k]); print_ustack(k) } }')
    # the end probe runs in ftstap, not in the traced process: like stap, print_ustack
    # names addresses in the current task, so these print raw
    lines = out.splitlines()
    assert lines[0] == "3" and len(lines) > 3, out
    assert all(re.fullmatch(r" 0x[0-9a-f]{16}", l) for l in lines[1:]), out


def test_maxbacktrace_limits_frames(prog):
    out = stap(prog, f'probe process("{prog}").function("c") {{ print_ubacktrace(); exit() }}',
               "-D", "MAXBACKTRACE=2")
    assert [f[1] for f in frames(out)] == ["c", "b"]
