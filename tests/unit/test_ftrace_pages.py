"""native/ftrace.c: ftrace ring-buffer pages (what eprobes deliver) parsed
and dispatched, fed through a pipe instead of trace_pipe_raw: small and
large events, time extends, padding, other event types, missed events
(counted or not), and the CPUs' events merged in time order."""
import fcntl
import os
import struct

import pytest

from ftstap.compile.codegen import CodeGen
from ftstap.kernel.features import KernelFeatures
from ftstap.lang import frontend
from ftstap.lang.source import Source
from ftstap.runtime import native
from ftstap.runtime.session import image_events
from ftstap.sema.elaborate import run_pass2
from codegen_support import need_tracepoint

SCRIPT = ('probe kernel.trace("timer:timer_start") { printf("%d %d %d %d\\n", pid(), tid(), cpu(), $expires) } '
          'probe timer.ms(300) { exit() }')
TYPE, OTHER = 77, 78
MISSED_EVENTS, MISSED_STORED = 1 << 31, 1 << 30


def record(type_, tid, expires, extra=0):
    # timer_start: common fields, then timer, function, expires at 24 (checked below)
    return struct.pack("<HBBi", type_, 0, 0, tid) + struct.pack("<QQQQQI", 1, 2, expires, 3, 4, 5) + b"x" * extra


def small(rec, delta=5):
    rec = rec.ljust((len(rec) + 3) // 4 * 4, b"\0")
    assert len(rec) // 4 <= 28
    return struct.pack("<I", len(rec) // 4 | delta << 5) + rec


def large(rec):                     # type_len 0: a length word (counting itself), then the data
    return struct.pack("<II", 7 << 5, len(rec) + 4) + rec


TIME_EXTEND = struct.pack("<II", 30 | 1 << 5, 123)
PADDING = struct.pack("<II", 29 | 3 << 5, 8) + b"\0" * 4


def page(events, missed=None, stamp=1000):
    """missed: the count stored after the data; 0: flagged, no count stored
    (the kernel adds the flags to a long with int arithmetic: 1 << 31 comes
    sign-extended, as read from this machine's pages)."""
    data = b"".join(events)
    flags = 0 if missed is None else MISSED_EVENTS | (MISSED_STORED if missed else 0)
    commit = (len(data) + (flags - (1 << 32) if flags else 0)) % (1 << 64)
    body = struct.pack("<QQ", stamp, commit) + data + (struct.pack("<Q", missed) if missed else b"")
    return body.ljust(4096, b"\0")


@pytest.fixture(scope="module")
def image():
    need_tracepoint("timer", "timer_start")
    feats = KernelFeatures.current()
    fmt = feats.tracepoint_format("timer", "timer_start")
    assert fmt.field("expires").offset == 24
    p1 = frontend.run_pass1(Source("<t>", SCRIPT), [])
    return CodeGen(run_pass2(p1.script, p1.tapsets, feats), feats).build()


def test_pages_parsed_and_dispatched(image, tmp_path):
    (probe, _event), = image_events(image)[1]
    r, w = os.pipe()
    fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
    me = os.getpid()
    os.write(w, page([small(record(TYPE, me, 11)), TIME_EXTEND, large(record(TYPE, me, 22, extra=100)),
                      PADDING, small(record(OTHER, me, 99)), small(record(TYPE, 999999, 33))]))
    os.write(w, page([small(record(TYPE, me, 44))], missed=5))
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        with native.Session(image, out_fd=o.fileno(), err_fd=e.fileno()) as s:
            s.ftrace_map(TYPE, probe)
            s.ftrace_add(r, 3)
            s.enable_events()
            s.run(5)
    os.close(w)
    rows = [l.split() for l in out.read_text().splitlines()]
    # pid(): the thread's process from /proc (the tid itself once it is gone)
    assert rows == [[str(me), str(me), "3", "11"], [str(me), str(me), "3", "22"],
                    ["999999", "999999", "3", "33"], [str(me), str(me), "3", "44"]]
    assert "WARNING: 5 events lost (ftrace buffer full): enlarge the buffers with -s MB\n" in err.read_text()


def _missed_warnings(image, tmp_path, pages):
    (probe, _event), = image_events(image)[1]
    r, w = os.pipe()
    fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
    for p in pages:
        os.write(w, p)
    err = tmp_path / "err"
    with open(os.devnull, "wb") as o, open(err, "wb") as e:
        with native.Session(image, out_fd=o.fileno(), err_fd=e.fileno()) as s:
            s.ftrace_map(TYPE, probe)
            s.ftrace_add(r, 3)
            s.enable_events()
            s.run(5)
            lost = s.lost()
    os.close(w)
    return lost, [l for l in err.read_text().splitlines() if "lost" in l]


def test_missed_without_a_count(image, tmp_path):
    """A page flagged missed with no room for the count (a full page): the
    loss is reported without a number, never as one event per page; with
    counts stored on other pages, as more than their sum."""
    me = os.getpid()
    ev = small(record(TYPE, me, 1))
    assert _missed_warnings(image, tmp_path, [page([ev], missed=0), page([ev], missed=0)]) == (
        1, ["WARNING: events lost (ftrace buffer full; the kernel did not say how many): "
            "enlarge the buffers with -s MB"])
    assert _missed_warnings(image, tmp_path, [page([ev], missed=7), page([ev], missed=0), page([ev], missed=3)]) == (
        10, ["WARNING: more than 10 events lost (ftrace buffer full; the kernel did not say how many): "
             "enlarge the buffers with -s MB"])
    assert _missed_warnings(image, tmp_path, [page([ev], missed=7), page([ev], missed=3)]) == (
        10, ["WARNING: 10 events lost (ftrace buffer full): enlarge the buffers with -s MB"])


def test_cpus_are_merged_in_time_order(image, tmp_path):
    """Two CPUs' pages whose events interleave in time: handled oldest
    first (page stamp + deltas, a time extend counted), whatever CPU."""
    (probe, _event), = image_events(image)[1]
    me = os.getpid()
    feeds = []
    for cpu, events, stamp in ((3, [small(record(TYPE, me, 1000), 0), small(record(TYPE, me, 1200), 200),
                                    TIME_EXTEND, small(record(TYPE, me, 1200 + (123 << 27) + 1), 0)], 1000),
                               (5, [small(record(TYPE, me, 1100), 0), small(record(TYPE, me, 1300), 200)], 1100)):
        r, w = os.pipe()
        fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
        os.write(w, page(events, stamp=stamp))
        feeds.append((r, w, cpu))
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        with native.Session(image, out_fd=o.fileno(), err_fd=e.fileno()) as s:
            s.ftrace_map(TYPE, probe)
            for r, _, cpu in feeds:
                s.ftrace_add(r, cpu)
            s.enable_events()
            s.run(5)
    for _, w, _ in feeds:
        os.close(w)
    rows = [(int(l.split()[2]), int(l.split()[3])) for l in out.read_text().splitlines()]
    assert rows == [(3, 1000), (5, 1100), (3, 1200), (5, 1300), (3, 1200 + (123 << 27) + 1)], rows
    assert "out of time order" not in err.read_text()
