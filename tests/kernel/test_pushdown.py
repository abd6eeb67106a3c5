"""Work moved into the kernel (issue 6): kernel event filters and counting
mode give the same results as running every event through the handler
(FTSTAP_NO_PUSHDOWN=1), on real events."""
import fcntl
import os
import subprocess
import sys

import pytest

WORKLOAD = r"""
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int fd = open("/dev/null", O_WRONLY);
    for (long i = 0; i < n; i++) {
        syscall(SYS_getppid);
        if (i % 10 == 0)
            write(fd, "x", 1);
        if (i % 100 == 0)
            write(1, "", 0);
    }
    return 0;
}
"""


@pytest.fixture
def workload(cc, tfs, need):
    need(os.path.exists(os.path.join(tfs, "events", "syscalls", "sys_enter_getppid")),
         "syscalls:sys_enter_getppid tracepoint")
    return cc(WORKLOAD, "pushwork")


def ftstap(*args, pushdown=True):
    env = dict(os.environ)
    env.pop("FTSTAP_NO_PUSHDOWN", None)
    if not pushdown:
        env["FTSTAP_NO_PUSHDOWN"] = "1"
    r = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, env=env,
                       timeout=120)
    return r.returncode, r.stdout, r.stderr


FILTERED = """
global calls, writes, fds, other
probe syscall.getppid { if (execname() == "pushwork") calls++ }
probe syscall.write { if (execname() == "pushwork" && (fd == 1 || $fd == 3)) writes[fd]++ }
probe syscall.write { if (tid() == 1 || cpu() == 999) other++ }
probe syscall.getppid, syscall.write { if (execname() != "pushwork" && execname() == "pushwork") fds++ }
probe end { printf("calls=%d other=%d fds=%d\\n", calls, other, fds); foreach (f+ in writes) printf("%d:%d\\n", f, writes[f]) }
"""


def test_filters_shown_at_p3():
    rc, out, err = ftstap("-p3", "-e", FILTERED)
    assert rc == 0, err
    assert '#   kernel filter: COMM == "pushwork"\n' in out
    assert '#   kernel filter: COMM == "pushwork" && (fd == 1 || fd == 3)' in out
    assert "#   kernel filter: common_pid == 1 || CPU == 999" in out


def test_filtered_results_equal_unfiltered(workload):
    runs = [ftstap("-e", FILTERED, "-c", f"{workload} 20000", pushdown=p) for p in (True, False)]
    for rc, out, err in runs:
        assert rc == 0, err
    assert runs[0][1] == runs[1][1]
    lines = runs[0][1].splitlines()
    assert lines[0] == "calls=20000 other=0 fds=0"
    assert lines[1:] == ["1:200", "3:2000"]


def test_rejected_filter_falls_back(workload):
    """A filter the kernel refuses (EINVAL) leaves the event unfiltered; the
    handler's own test still decides."""
    from ftstap.runtime import native
    from ftstap.runtime import session as S
    from ftstap.compile.codegen import CodeGen
    from ftstap.kernel.features import KernelFeatures
    from ftstap.lang import frontend
    from ftstap.lang.source import Source
    from ftstap.sema.elaborate import run_pass2
    text = 'global n; probe syscall.getppid { if (execname() == "pushwork") n[execname()]++ }'
    p1 = frontend.run_pass1(Source("<t>", text), [])
    cg = CodeGen(run_pass2(p1.script, p1.tapsets, KernelFeatures.current()))
    image = cg.build()
    specs, probes = S.image_events(image)
    specs[0].filter = "no_such_field == 1"
    r, w = os.pipe()
    with native.Session(image, out_fd=w) as s:
        with S.LiveSession(s, specs, probes, command=f"{workload} 5000") as live:
            status = s.run(30)
            assert live.filters_rejected >= 1
        s.flush()
    os.close(w)
    with os.fdopen(r) as f:
        assert (status, f.read()) == (0, 'n["pushwork"]=5000\n')


COUNTING = """
global n, calls, scaled
probe syscall.getppid { if (execname() == "pushwork") n++ }
probe syscall.getppid, syscall.write { if (execname() == "pushwork") calls[name]++ }
probe syscall.write { if (execname() == "pushwork" && fd == 1) scaled += 5 }
probe end { printf("n=%d scaled=%d\\n", n, scaled); foreach (k+ in calls) printf("%s:%d\\n", k, calls[k]) }
"""


def test_counting_mode_shown_at_p3():
    rc, out, err = ftstap("-p3", "-e", COUNTING)
    assert rc == 0, err
    assert out.count("#   counting mode (no samples)") == 4
    assert '#   counting mode (no samples): calls["write"] += count of the filtered events' in out


def test_counting_results_equal_sampled(workload):
    runs = [ftstap("-e", COUNTING, "-c", f"{workload} 20000", pushdown=p) for p in (True, False)]
    for rc, out, err in runs:
        assert rc == 0, err
    assert runs[0][1] == runs[1][1] == "n=20000 scaled=1000\ngetppid:20000\nwrite:2200\n"


def test_counting_mode_2m_getppid_exact(cc, need, tfs):
    """The 2,000,000-getppid exact count, with no samples at all."""
    need(os.path.exists(os.path.join(tfs, "events", "syscalls", "sys_enter_getppid")), "getppid tracepoint")
    prog = cc(WORKLOAD.replace("if (i % 10 == 0)", "if (0)").replace("if (i % 100 == 0)", "if (0)"), "cnt2m")
    script = 'global n; probe syscall.getppid { if (execname() == "cnt2m") n++ } probe end { println(n) }'
    rc, out, err = ftstap("-p3", "-e", script)
    assert "counting mode" in out
    rc, out, err = ftstap("-e", script, "-c", f"{prog} 2000000")
    assert (rc, out, err) == (0, "2000000\n", "")


# Keys from the probe point's builtins and statistics (z gets two values from
# two probes: the sampled path interleaves them, so only the aggregates that
# do not depend on order are printed for it).
COUNTING_KEYS_STATS = """
global calls, hits, x, y, z
probe syscall.getppid, syscall.write { if (execname() == "pushwork") calls[probefunc(), pp(), probemod()]++ }
probe kernel.trace("syscalls:sys_enter_getppid") { if (execname() == "pushwork") hits[pp(), ppfunc(), pn()] += 3 }
probe syscall.getppid { if (execname() == "pushwork") x <<< 1 }
probe syscall.getppid.return, syscall.write.return { if (execname() == "pushwork") y[name, is_return()] <<< 5 }
probe syscall.write { if (execname() == "pushwork") z <<< 2 }
probe syscall.getppid { if (execname() == "pushwork") z <<< 7 }
probe end {
    foreach ([a, b, c] in calls+) printf("%s|%s|%s: %d\\n", a, b, c, calls[a, b, c])
    foreach ([a, b, c] in hits) printf("%s|%s|%s: %d\\n", a, b, c, hits[a, b, c])
    printf("x %d %d %d %d %d %d\\n", @count(x), @sum(x), @min(x), @max(x), @avg(x), @variance(x))
    print(@hist_linear(x, 0, 3, 1))
    foreach ([n+, r] in y) printf("y %s %d: %d %d %d %d\\n", n, r, @count(y[n, r]), @sum(y[n, r]), @avg(y[n, r]), @variance(y[n, r]))
    print(@hist_log(y["write", 1]))
    printf("z %d %d %d %d %d\\n", @count(z), @sum(z), @min(z), @max(z), @avg(z))
}
"""


def test_counting_keys_and_stats_shown_at_p3():
    rc, out, err = ftstap("-p3", "-e", COUNTING_KEYS_STATS)
    assert rc == 0, err
    assert out.count("#   counting mode (no samples)") == 8, out
    assert "#   counting mode (no samples): calls[probefunc(), pp(), probemod()] += count of the filtered events" in out
    assert '#   counting mode (no samples): y["write", is_return()] <<< 5, count times of the filtered events' in out


def test_counting_keys_and_stats_equal_sampled(workload):
    runs = [ftstap("-e", COUNTING_KEYS_STATS, "-c", f"{workload} 20000", pushdown=p) for p in (True, False)]
    for rc, out, err in runs:
        assert (rc, err) == (0, "")
    assert runs[0][1] == runs[1][1]
    lines = runs[0][1].splitlines()
    assert lines[:3] == ["|syscall.write|kernel: 2200", "|syscall.getppid|kernel: 20000",
                         'kernel.trace("syscalls:sys_enter_getppid")|sys_enter_getppid|'
                         'kernel.trace("syscalls:sys_enter_getppid"): 60000']
    assert lines[3] == "x 20000 20000 1 1 1 0"
    assert "y getppid 1: 20000 100000 5 0" in lines and "y write 1: 2200 11000 5 0" in lines
    assert lines[-1] == "z 22200 144400 2 7 6"


# A syscall nothing on the machine makes but RARE_WORK: with pushdown off,
# the handler runs (and -t counts a hit) for every such event system-wide.
RARE_WORK = r"""
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    for (long i = 0; i < n; i++)
        syscall(SYS_sched_get_priority_max, -1);   /* EINVAL: no policy -1 */
    return 0;
}
"""


@pytest.fixture
def rare_syscall_alone():
    """Only one run of this suite on the machine makes the rare syscall at a time."""
    fd = os.open("/tmp/ftstap-tests-rare-syscall.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def test_counting_probe_hits_count_events(cc, tfs, need, rare_syscall_alone):
    """-t reports a counting probe's events as its hits, as the sampled path does.

    Both counts must be this run's own events alone: the kernel filter
    names a command of its own (pw<pid of pytest>, not a name another run
    of these tests also uses), and the syscall is one nothing else makes,
    since the sampled path (pushdown off) runs the handler, and counts a
    hit, for every event of it on the machine."""
    need(os.path.exists(os.path.join(tfs, "events", "syscalls", "sys_enter_sched_get_priority_max")),
         "syscalls:sys_enter_sched_get_priority_max tracepoint")
    name = f"pw{os.getpid()}"
    prog = cc(RARE_WORK, name)
    script = (f'global x; probe syscall.sched_get_priority_max {{ if (execname() == "{name}") x <<< 1 }} '
              'probe end { println(@count(x)) }')
    rc, out, err = ftstap("-p3", "-e", script)
    assert "#   counting mode (no samples)" in out, out
    hits = []
    for p in (True, False):
        rc, out, err = ftstap("-t", "-e", script, "-c", f"{prog} 3000", pushdown=p)
        assert rc == 0, err
        assert out.startswith("3000\n"), out
        hits.append([l.split(", ns:")[0] for l in out.splitlines() if ", hits: " in l])
    assert hits[0] == hits[1] == ["syscall.sched_get_priority_max, hits: 3000", "end, hits: 1"]


TASK = """
global n, m
probe syscall.getppid { if (pid() == target()) n++ }
probe syscall.write, syscall.getppid { if (pid() == target() && tid() > 0) m[name]++ }
probe end { printf("n=%d\\n", n); foreach (k+ in m) printf("%s:%d\\n", k, m[k]) }
"""


def test_task_scoped_events_equal_system_wide(workload):
    rc, out, err = ftstap("-p3", "-e", TASK)
    assert out.count("#   per task under -c") == 3, out
    # a shell as target(): its children fire inherited events, which the handler's test rejects
    cmd = f"/bin/sh -c '{workload} 3000; {workload} 1000; exit 0'"
    runs = [ftstap("-e", TASK, "-c", cmd, pushdown=p) for p in (True, False)]
    assert runs[0] == runs[1]
    runs = [ftstap("-e", TASK, "-c", f"{workload} 3000", pushdown=p) for p in (True, False)]
    assert runs[0] == runs[1] == (0, "n=3000\ngetppid:3000\nwrite:330\n", "")


def test_task_scoped_opens_per_task(workload):
    from ftstap.runtime import native
    from ftstap.runtime import session as S
    from ftstap.compile.codegen import CodeGen
    from ftstap.kernel.features import KernelFeatures
    from ftstap.lang import frontend
    from ftstap.lang.source import Source
    from ftstap.sema.elaborate import run_pass2
    p1 = frontend.run_pass1(Source("<t>", TASK), [])
    image = CodeGen(run_pass2(p1.script, p1.tapsets, KernelFeatures.current())).build()
    specs, probes = S.image_events(image)
    with native.Session(image, out_fd=os.open(os.devnull, os.O_WRONLY)) as s:
        with S.LiveSession(s, specs, probes, command=f"{workload} 100") as live:
            assert live.task_pid == live.child_pid > 0
            s.run(30)
