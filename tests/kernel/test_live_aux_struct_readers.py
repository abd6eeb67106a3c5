"""The syscall tapset's user-memory struct readers (tapsets/aux_siginfo.stp,
aux_struct.stp, aux_sockaddr.stp) against the structs a real program passed:
rt_sigaction's struct sigaction, sigaltstack's stack_t, writev's iovec,
rt_sigqueueinfo's siginfo_t and sendto's sockaddr_in6.  The program keeps
them in static storage and lingers: they are read after the event, from the
live process, and must show what the program wrote."""
import re
import subprocess
import sys

PROG = r'''
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
static char stack[65536], text[] = "hello";
static struct iovec iov[2];
static siginfo_t si;
static struct sockaddr_in6 a6;
static void on_signal(int sig, siginfo_t *i, void *c) { (void)sig; (void)i; (void)c; }
static void not_called(void) {}
/* the kernel's struct sigaction, passed as is (glibc's sigaction() copies
   into a stack frame gone by the time the tapset reads it); SIGUSR1 is
   never raised, so the restorer is never run */
static struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } kact;
int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGUSR2, &sa, 0);
    kact.handler = (void *)on_signal;
    kact.flags = SA_RESTART | SA_SIGINFO | 0x04000000;         /* SA_RESTORER */
    kact.restorer = (void *)not_called;
    kact.mask = (1UL << (SIGINT - 1)) | (1UL << (SIGTERM - 1));
    syscall(SYS_rt_sigaction, SIGUSR1, &kact, 0, 8);
    stack_t ss = {.ss_sp = stack, .ss_flags = 0, .ss_size = sizeof stack};
    sigaltstack(&ss, 0);
    iov[0].iov_base = text;
    iov[0].iov_len = 5;
    iov[1].iov_base = text;
    iov[1].iov_len = 1;
    int fd = open("/dev/null", 1);
    writev(fd, iov, 2);
    si.si_signo = SIGUSR2;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, &si);
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(9);
    a6.sin6_flowinfo = 74565;
    a6.sin6_addr = in6addr_loopback;
    a6.sin6_scope_id = 0;
    sendto(u, text, 1, MSG_DONTWAIT, (struct sockaddr *)&a6, sizeof a6);
    printf("handler %p restorer %p stack %p text %p pid %d uid %d\n", (void *)on_signal, (void *)not_called,
           (void *)stack, (void *)text, getpid(), getuid());
    fflush(stdout);
    usleep(400000);
    return 0;
}
'''

SCRIPT = r'''
probe syscall.rt_sigaction { if (pid() == target() && int_arg(1) == 10) printf("act\t%s\n", _struct_sigaction_u(pointer_arg(2))) }
probe syscall.sigaltstack { if (pid() == target()) printf("ss\t%s\n", _stp_sigaltstack_u(pointer_arg(1))) }
probe syscall.writev { if (pid() == target()) printf("iov\t%s\n", _stp_struct_iovec_u(pointer_arg(2))) }
probe syscall.rt_sigqueueinfo { if (pid() == target()) printf("si\t%s\n", _stp_siginfo_u(pointer_arg(3))) }
probe syscall.sendto { if (pid() == target()) printf("sa6\t%s\t%s\t%s\n", _struct_sockaddr_u_impl(pointer_arg(5), 28, 1),
                       _struct_sockaddr_u_ipv6_flowinfo(pointer_arg(5), 28), _struct_sockaddr_u_impl(pointer_arg(5), 16, 1)) }
'''


def test_struct_readers_show_what_the_program_passed(tfs, cc):
    prog = cc(PROG, "aux_structs")
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", prog, "-e", SCRIPT], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    out = p.stdout
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines() if "\t" in line}
    m = re.search(r"handler 0x([0-9a-f]+) restorer 0x([0-9a-f]+) stack 0x([0-9a-f]+) text 0x([0-9a-f]+) "
                  r"pid (\d+) uid (\d+)", out)
    assert m, out
    handler, restorer, stack, text, pid, uid = *(int(m[i], 16) for i in range(1, 5)), m[5], m[6]
    assert rows["act"] == [f"0x{handler:x}, SA_RESTART|SA_SIGINFO|SA_RESTORER, 0x{restorer:x}, [SIGINT|SIGTERM]"], out
    assert rows["ss"] == [f"{{ss_sp=0x{stack:x}, ss_flags=0x0, ss_size=65536}}"], out
    assert rows["iov"] == [f"[{{0x{text:x}, 5}}]"], out
    assert rows["si"] == [f"{{si_signo=SIGUSR2, si_code=SI_QUEUE, si_pid={pid}, si_uid={uid}}}"], out
    assert rows["sa6"] == ["{AF_INET6, 0000:0000:0000:0000:0000:0000:0000:0001, 9}", "74565",
                           "{unknown sockaddr with sa=10, salen=16}"], out
