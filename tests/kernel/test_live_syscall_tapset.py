"""The syscall tapset's variables against what a real program passed: open
with flags, futex, connect on loopback, pipe and wait4 (return variables
from the entry's arguments through @entry), and int_arg()/pointer_arg() on
a syscall entry.  The program keeps its buffers in static storage and
lingers before exiting: without kprobes, strings and results in user memory
are read after the event, from the live process."""
import re
import subprocess
import sys

PROG = r'''
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static char path[] = "/tmp/ftstap-tapset-test";
static int word, fds[2], status;
int main(void) {
    int fd = openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    close(fd);
    unlink(path);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    getsockname(l, (struct sockaddr *)&a, &n);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    printf("port %d futex %p\n", ntohs(a.sin_port), (void *)&word);
    syscall(SYS_pipe2, fds, O_CLOEXEC);
    printf("pipe %d %d\n", fds[0], fds[1]);
    pid_t p = fork();
    if (p == 0)
        _exit(3);
    wait4(p, &status, 0, 0);
    fflush(stdout);
    usleep(400000);
    return 0;
}
'''

SCRIPT = r'''
probe syscall.openat { if (pid() == target()) printf("openat\t%s\t%s\t%s\t%#o\t%d\t%d\n", filename, flags_str, argstr, mode, int_arg(1), uint_arg(3)) }
probe syscall.futex { if (pid() == target()) printf("futex\t%p\t%s\n", futex_uaddr, argstr) }
probe syscall.connect { if (pid() == target()) printf("connect\t%s\t%s\t%s\t%s\n", uaddr_af, uaddr_ip, uaddr_ip_port, argstr) }
probe syscall.pipe*.return { if (pid() == target()) printf("pipe\t%d\t%d\t%s\t%s\n", pipe0, pipe1, flag_str, retstr) }
probe syscall.wait4.return { if (pid() == target()) printf("wait4\t%s\t%d\n", status_str, retval) }
'''


def _rows(out):
    return {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines() if "\t" in line}


def test_syscall_variables_match_what_the_program_passed(tfs, cc):
    prog = cc(PROG, "tapset_calls")
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", prog, "-e", SCRIPT], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    out = p.stdout
    rows = _rows(out)
    port = re.search(r"port (\d+) futex 0x([0-9a-f]+)", out)
    pipe = re.search(r"pipe (\d+) (\d+)", out)
    assert port and pipe, out
    assert rows["openat"][:4] == ['"/tmp/ftstap-tapset-test"', "O_WRONLY|O_CREAT|O_CLOEXEC",
                                  'AT_FDCWD, "/tmp/ftstap-tapset-test", O_WRONLY|O_CREAT|O_CLOEXEC, 0640',
                                  "0640"], out
    assert rows["openat"][4:] == ["-100", str(0o1 | 0o100 | 0o2000000)], out        # int_arg(1), uint_arg(3)
    assert int(rows["futex"][0], 16) == int(port.group(2), 16), out
    assert "FUTEX_WAKE_PRIVATE" in rows["futex"][1], out
    assert rows["connect"][:3] == ["AF_INET", "127.0.0.1", port.group(1)], out
    assert rows["pipe"] == [pipe.group(1), pipe.group(2), "O_CLOEXEC", "0"], out
    assert rows["wait4"][0] == "WEXITSTATUS=3" and int(rows["wait4"][1]) > 0, out


def test_strings_read_after_the_event_are_announced(tfs):
    """Without kprobes the kernel cannot read filename at the event: pass 2
    and -L say so, naming the probes and fields; with them (the QEMU guest,
    tests/kernel/test_live_kprobes.py) they say nothing."""
    from ftstap.kernel.features import KernelFeatures
    late = not KernelFeatures.detect().has_kprobes
    script = 'probe syscall.openat, syscall.getpid { printf("%s %s\\n", name, argstr) }'
    p2 = subprocess.run([sys.executable, "-m", "ftstap", "-p2", "-e", script], capture_output=True, text=True)
    assert p2.returncode == 0, p2.stderr
    warned = [line for line in p2.stderr.splitlines() if line.startswith("WARNING: syscall.openat: ")]
    assert bool(warned) == late and (not late or "$filename" in warned[0] and "getpid" not in warned[0]), p2.stderr
    # ftstap's own note about the kernel, not one of stap's warnings: -W does not make it fatal
    strict = subprocess.run([sys.executable, "-m", "ftstap", "-W", "-p2", "-e", script], capture_output=True, text=True)
    assert strict.returncode == 0 and ("$filename" in strict.stderr) == late, strict.stderr
    quiet = subprocess.run([sys.executable, "-m", "ftstap", "-p2", "-e", 'probe syscall.openat { println(flags) }'],
                           capture_output=True, text=True)
    assert quiet.returncode == 0 and "WARNING" not in quiet.stderr, quiet.stderr     # no string read
    listing = subprocess.run([sys.executable, "-m", "ftstap", "-L", "syscall.openat"], capture_output=True, text=True)
    assert listing.stdout.startswith("syscall.openat name:string") and "filename:string" in listing.stdout
    assert ("$filename" in listing.stderr) == late, listing.stderr


def test_sendfile_is_served_by_the_kernels_sendfile64(tfs):
    # the program prints its own descriptors and what sendfile returned
    prog = ('import os; f = open("/etc/hostname", "rb"); o = open("/dev/null", "wb"); '
            'print(f.fileno(), o.fileno(), os.sendfile(o.fileno(), f.fileno(), 0, 100), flush=True)')
    script = ('probe syscall.sendfile { if (pid() == target()) printf("%s %d %d %d|%s\\n", name, in_fd, out_fd, '
              'count, argstr) } probe syscall.sendfile.return { if (pid() == target()) printf("ret %d\\n", retval) }')
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", f"{sys.executable} -c '{prog}'", "-e", script],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    fin, fout, sent = next(l.split() for l in lines if re.fullmatch(r"\d+ \d+ \d+", l))
    assert f"sendfile {fin} {fout} 100|{fout}, {fin}, 0x" in p.stdout, p.stdout
    assert f"ret {sent}" in lines, p.stdout
