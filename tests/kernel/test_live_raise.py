"""raise(signo) (guru): the traced thread receives the signal, as its own
handler counts; refused without -g and where no thread is traced."""
import signal
import subprocess
import sys


# a real-time signal: three raised are three delivered (a standard one merges while pending)
SIG = int(signal.SIGRTMIN)
PROG = r"""
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void on(int s) { (void)s; got++; }
int main(void)
{
    struct sigaction sa = {.sa_handler = on};
    sigaction(%d, &sa, NULL);
    for (int i = 0; i < 3; i++)
        getppid();
    for (int i = 0; i < 50 && got < 3; i++)
        usleep(10000);
    printf("got %%d\n", (int)got);
    return 0;
}
""" % SIG
SCRIPT = f"probe syscall.getppid {{ if (pid() == target()) raise({SIG}) }}"


def ftstap(*args):
    return subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120)


def test_the_traced_thread_gets_the_signal(tracepoints, cc):
    tracepoints("syscalls:sys_enter_getppid")
    r = ftstap("-g", "-c", cc(PROG, "raised"), "-e", SCRIPT)
    assert r.returncode == 0, r.stderr
    assert "got 3" in r.stdout, r.stdout


def test_raise_needs_guru_mode_and_a_traced_thread():
    r = ftstap("-p2", "-e", SCRIPT)
    assert r.returncode == 1 and "function 'raise' is only available in guru mode" in r.stderr
    r = ftstap("-g", "-e", "probe begin { raise(10) }")
    assert "raise(): this probe has no traced thread to signal" in r.stderr
