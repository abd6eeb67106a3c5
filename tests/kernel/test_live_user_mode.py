"""user_mode(): 1 where the probe caught user space, as stap says it.

Ground truth is what the traced program does: a loop that never leaves
user space, reads of /dev/zero that spend their time in the kernel, a
syscall, a function of the program itself."""
import os
import subprocess
import sys

SPIN_C = r"""
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
__attribute__((noinline)) long step(long x) { return x * 3 + 1; }
__attribute__((noinline)) void finish(void) { asm volatile("" ::: "memory"); }
static char buf[1 << 20];
int main(int argc, char **argv)
{
    volatile long x = 0;
    double end = now() + 1.0;
    if (argv[1][0] == 'u')                      /* user space only (vDSO clock) */
        while (now() < end)
            for (int i = 0; i < 100000; i++)
                x = step(x);
    else {                                      /* the kernel clears 1 MiB per call */
        int fd = open("/dev/zero", O_RDONLY);
        while (now() < end)
            if (read(fd, buf, sizeof buf) < 0)
                return 1;
    }
    getppid();
    finish();
    return 0;
}
"""

SCRIPT = """
global prof, sys, up
probe timer.profile { if (pid() == target()) prof[user_mode()]++ }
probe syscall.getppid { if (pid() == target()) sys[user_mode()]++ }
probe process("%s").function("finish") { up[user_mode()]++ }
probe begin { printf("begin %%d\\n", user_mode()) }
probe end { printf("profile %%d %%d syscall %%d %%d uprobe %%d %%d\\n", prof[1], prof[0], sys[1], sys[0],
                   up[0], up[1]) }
"""


def run(cc_prog, mode):
    r = subprocess.run([sys.executable, "-m", "ftstap", "-c", f"{cc_prog} {mode}", "-e", SCRIPT % cc_prog],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "begin 0" in r.stdout, r.stdout                       # ftstap's own process, not a sample
    words = r.stdout.split("profile ")[1].split()
    return {"user": int(words[0]), "kernel": int(words[1]), "sys_user": int(words[3]), "sys_kernel": int(words[4]),
            "uprobe_kernel": int(words[6]), "uprobe_user": int(words[7])}


def test_user_mode_follows_where_the_program_was(cc, tracepoints, need, tfs):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "no uprobe_events")
    tracepoints("syscalls:sys_enter_getppid")
    prog = cc(SPIN_C, "spin", "-O1")
    u = run(prog, "u")
    assert u["user"] >= 4 * max(u["kernel"], 1), u               # spinning in user space
    assert (u["sys_user"], u["sys_kernel"]) == (0, 1), u          # a syscall tracepoint is kernel code
    assert (u["uprobe_user"], u["uprobe_kernel"]) == (1, 0), u     # a uprobe stops the program in user space
    k = run(prog, "k")
    assert k["kernel"] >= 2 * max(k["user"], 1), k                # inside read(2) most of the time
