"""Hand-assembled program images for the live-event tests (they do not wait
for codegen of `$field`), and a subprocess entry point:

    python3 live_images.py KIND [ARGS...]

runs one image through runtime.session.run_live, the way pass 5 does, so a
test can signal it, time it out or SIGKILL it like a real ftstap."""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from ftstap.image.builder import ImageBuilder          # noqa: E402
from ftstap.image.events import EventSpec              # noqa: E402

GETPPID = EventSpec("tracepoint", pp='kernel.trace("syscalls:sys_enter_getppid")', system="syscalls",
                    event="sys_enter_getppid")
EXEC = EventSpec("tracepoint", pp='kernel.trace("sched:sched_process_exec")', system="sched",
                 event="sched_process_exec")


def _print_int_end(b: ImageBuilder, g: str, prefix: str = "") -> None:
    e = b.function("end")
    if prefix:
        e.PUSHS(prefix).PRINTS()
    e.LDGI(g).PRINTI().PUSHS("\n").PRINTS().RET()
    b.probe("end", "end", e)


def count_target(spec: EventSpec = GETPPID, by: str = "target") -> bytes:
    """n counts events with pid() == target() (by="target") or all events
    (by="all") or events whose execname() is the string global `comm`
    (by="comm"); printed in the end probe."""
    b = ImageBuilder()
    b.add_global("n", "i")
    if by == "comm":
        b.add_global("comm", "s")
    f = b.function("h")
    skip = f.label()
    if by == "target":
        f.CALLB("pid", None).CALLB("target", None).JNE(skip)
    elif by == "comm":
        f.CALLB("execname", None).LDGS("comm").SEQ().JZ(skip)
    f.LDGI("n").PUSHI(1).ADD().STGI("n")
    f.place(skip)
    f.RET()
    b.probe(spec.pp, "event", f, event=b.event(spec))
    begin = b.function("begin")
    begin.PUSHS("ready\n").PRINTS().RET()
    b.probe("begin", "begin", begin)
    _print_int_end(b, "n")
    return b.serialize()


def fields_of_getppid() -> bytes:
    """Per event of the target: common_pid (LDFI 4/4 signed) must equal
    pid(), __syscall_nr (LDFI 8/4 signed) is recorded; prints
    "events mismatches nr" at the end."""
    b = ImageBuilder()
    for g in ("n", "bad", "nr"):
        b.add_global(g, "i")
    f = b.function("h")
    skip, same = f.label(), f.label()
    f.CALLB("pid", None).CALLB("target", None).JNE(skip)
    f.LDGI("n").PUSHI(1).ADD().STGI("n")
    f.LDFI(4, 4, 1).CALLB("pid", None).JEQ(same)
    f.LDGI("bad").PUSHI(1).ADD().STGI("bad")
    f.place(same)
    f.LDFI(8, 4, 1).STGI("nr")
    f.LDFI(1 << 20, 8, 0).LDGI("bad").ADD().STGI("bad")     # outside the record: 0
    f.place(skip)
    f.RET()
    b.probe(GETPPID.pp, "event", f, event=b.event(GETPPID))
    e = b.function("end")
    e.LDGI("n").LDGI("bad").LDGI("nr").PRINTF("%d %d %d\n").RET()
    b.probe("end", "end", e)
    return b.serialize()


def exec_names() -> bytes:
    """sched_process_exec: seen[filename (__data_loc, LDFS mode 1), execname(), pid, $pid field]++;
    prints every entry at the end as "filename|comm|pid|fieldpid|count"."""
    b = ImageBuilder()
    b.add_global("seen", "i", keys="ssii")
    f = b.function("h")
    f.LDFS(8, 1, 0).CALLB("execname", None).CALLB("pid", None).LDFI(12, 4, 1)
    f.PUSHI(1).AADDI("seen", 0, None).RET()
    b.probe(EXEC.pp, "event", f, event=b.event(EXEC))
    e = b.function("end")
    e.iterators(1)
    top, done = e.label(), e.label()
    e.FEBEGIN(0, "seen", 0, 0, 0, 0, 0b1111)   # every key column a wildcard: no slice
    e.place(top)
    e.FENEXT(0, done)
    e.FEKEYS(0, "seen", 0).FEKEYS(0, "seen", 1).FEKEYI(0, "seen", 2).FEKEYI(0, "seen", 3).FEVALI(0, "seen")
    e.PRINTF("%s|%s|%d|%d|%d\n").JMP(top)
    e.place(done)
    e.RET()
    b.probe("end", "end", e)
    return b.serialize()


def uprobe_image(path: str, offset: int, ret_offset: int | None = None, a_off: int = 16) -> bytes:
    """process(path).function at offset: calls, sum of $a (fetch-arg a=%di:s32),
    and, with ret_offset, the return probe's sum of $return (ret=$retval:s32)
    and is_return(); user_string($s) of a second fetch-arg s=%si:u64 recorded
    into `str`.  Prints "calls sum rets retsum isret str"."""
    b = ImageBuilder()
    for g in ("calls", "sum", "rets", "retsum", "isret"):
        b.add_global(g, "i")
    b.add_global("str", "s")
    spec = EventSpec("uprobe", pp=f'process("{path}").function("add")', path=path, offset=offset,
                     args=["a=%di:s32", "s=%si:u64"], fields={"a": a_off, "s": a_off + 4})
    f = b.function("call")
    f.LDGI("calls").PUSHI(1).ADD().STGI("calls")
    f.LDGI("sum").LDFI(a_off, 4, 1).ADD().STGI("sum")
    f.LDFI(a_off + 4, 8, 0).CALLB("user_string", None).STGS("str")
    f.RET()
    b.probe(spec.pp, "event", f, event=b.event(spec))
    if ret_offset is not None:
        rspec = EventSpec("uprobe", pp=spec.pp + ".return", path=path, offset=ret_offset, is_return=True,
                          args=["ret=$retval:s32"], fields={"ret": 24})
        r = b.function("ret")
        r.LDGI("rets").PUSHI(1).ADD().STGI("rets")
        r.LDGI("retsum").LDFI(24, 4, 1).ADD().STGI("retsum")
        r.CALLB("is_return", None).STGI("isret")
        r.RET()
        b.probe(rspec.pp, "event", r, event=b.event(rspec))
    begin = b.function("begin")
    begin.PUSHS("ready\n").PRINTS().RET()
    b.probe("begin", "begin", begin)
    e = b.function("end")
    for g in ("calls", "sum", "rets", "retsum", "isret"):
        e.LDGI(g)
    e.LDGS("str").PRINTF("%d %d %d %d %d %s\n").RET()
    b.probe("end", "end", e)
    return b.serialize()


def error_on_event(spec: EventSpec = GETPPID) -> bytes:
    """A handler that divides by zero: with MAXERRORS 0 the first event ends the session."""
    b = ImageBuilder()
    f = b.function("h")
    loc = b.location("<input>", 1, 1, "operator '/'")
    f.PUSHI(1).PUSHI(0).DIV(loc).POPI().RET()
    b.probe(spec.pp, "event", f, event=b.event(spec))
    begin = b.function("begin")
    begin.PUSHS("ready\n").PRINTS().RET()
    b.probe("begin", "begin", begin)
    return b.serialize()


def uprobe_error(path: str, offset: int) -> bytes:
    """An erroring handler on a uprobe: the session ends at its first hit."""
    return error_on_event(EventSpec("uprobe", pp=f'process("{path}").function("add")', path=path,
                                    offset=offset, args=["a=%di:s32"]))


IMAGES = {"count": count_target, "uprobe": uprobe_image, "error": error_on_event, "uerror": uprobe_error}


def main(argv: list[str]) -> int:
    """live_images.py KIND JSON-KWARGS [RUN-JSON]: build the image and run it."""
    from ftstap.runtime.session import run_live
    kind, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    run = json.loads(argv[2]) if len(argv) > 2 else {}
    image = IMAGES[kind](**kwargs)
    globals_ = {}
    if "comm" in run:
        globals_[1] = run.pop("comm")
    return run_live(image, globals_, **run)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
