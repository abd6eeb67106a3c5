"""tracefs format parsing and the dynamic-event transaction logic, without a kernel."""
import errno
import os
import subprocess
import sys

import pytest

from ftstap.errors import KernelError
from ftstap.kernel import dynevents
from ftstap.kernel.tracefs import parse_field, parse_format

SCHED_SWITCH = """name: sched_switch
ID: 372
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;

print fmt: "prev_comm=%s prev_pid=%d", REC->prev_comm, REC->prev_pid
"""

OPENAT = """name: sys_enter_openat
ID: 782
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;

print fmt: "dfd: 0x%08lx, filename: 0x%08lx", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename))
"""


def test_sched_switch_fields():
    f = parse_format(SCHED_SWITCH, "sched")
    assert (f.name, f.id, f.system) == ("sched_switch", 372, "sched")
    assert [c.name for c in f.common_fields] == ["common_type", "common_flags",
                                                "common_preempt_count", "common_pid"]
    assert [x.name for x in f.fields] == ["prev_comm", "prev_pid", "prev_prio", "prev_state",
                                         "next_comm", "next_pid", "next_prio"]
    comm = f.field("prev_comm")
    assert (comm.ctype, comm.offset, comm.size, comm.dims, comm.is_string) == ("char", 8, 16, (16,), True)
    pid = f.field("next_pid")
    assert (pid.ctype, pid.offset, pid.size, pid.signed, pid.is_string) == ("pid_t", 56, 4, True, False)
    assert f.field("common_pid").signed and f.field("common_pid").offset == 4
    assert f.record_size == 64
    assert f.print_fmt.startswith('"prev_comm=%s')
    assert f.field("nope") is None


def test_openat_pointer_is_not_a_string():
    f = parse_format(OPENAT)
    fn = f.field("filename")
    assert (fn.ctype, fn.offset, fn.size, fn.is_pointer, fn.is_string) == ("const char *", 24, 8, True, False)
    assert f.field("dfd").size == 8 and not f.field("dfd").signed
    assert f.field("__syscall_nr").offset == 8


@pytest.mark.parametrize("line, want", [
    ("field:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;",
     ("filename", "char", 8, 4, False, "data", (), True)),
    ("field:__rel_loc char[] name;\toffset:12;\tsize:4;\tsigned:0;",
     ("name", "char", 12, 4, False, "rel", (), True)),
    ("field:__data_loc u64[] addrs;\toffset:12;\tsize:4;\tsigned:0;",
     ("addrs", "u64", 12, 4, False, "data", (), False)),
    ("field:char buf[];\toffset:16;\tsize:0;\tsigned:0;",
     ("buf", "char", 16, 0, False, None, (None,), True)),
    ("field:__u8 saddr[28];\toffset:20;\tsize:28;\tsigned:0;",
     ("saddr", "__u8", 20, 28, False, None, (28,), False)),
    ("field:u32 grid[2][3];\toffset:8;\tsize:24;\tsigned:0;",
     ("grid", "u32", 8, 24, False, None, (2, 3), False)),
    ("field:struct file_lock_core * blocker;\toffset:8;\tsize:8;\tsigned:0;",
     ("blocker", "struct file_lock_core *", 8, 8, False, None, (), False)),
    ("field:char **argv;\toffset:8;\tsize:8;\tsigned:0;",
     ("argv", "char **", 8, 8, False, None, (), False)),
    ("field:long ret;\toffset:16;\tsize:8;", ("ret", "long", 16, 8, False, None, (), False)),
])
def test_field_declarations(line, want):
    f = parse_field(line)
    assert (f.name, f.ctype, f.offset, f.size, f.signed, f.loc, f.dims, f.is_string) == want


def test_not_a_format():
    with pytest.raises(KernelError):
        parse_format("hello\nworld\n")
    assert parse_field("print fmt: x") is None


# ---- dynamic events: the transaction logic on a fake tracefs ----------------

@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A directory laid out like tracefs, whose *_events are plain files;
    writes are recorded and lines containing BAD are rejected."""
    for name in ("uprobe_events", "kprobe_events", "dynamic_events", "error_log"):
        (tmp_path / name).write_text("")
    writes = []

    def write_line(path, line):
        if "BAD" in line:
            with open(os.path.join(os.path.dirname(path), "error_log"), "a") as f:
                f.write("[ 1.0] trace_uprobe: error: Invalid register name\n  Command: x\n")
            raise OSError(errno.EINVAL, "Invalid argument")
        writes.append((os.path.basename(path), line))
    monkeypatch.setattr(dynevents, "_write_line", write_line)
    monkeypatch.setattr(dynevents, "registry_dir", lambda: str(tmp_path))
    return tmp_path, writes


def test_parse_definition():
    assert dynevents.parse_definition("p:ftstap_1/a /bin/true:0x10 x=%di") == \
        ("p", "ftstap_1", "a", "/bin/true:0x10", "uprobe")
    assert dynevents.parse_definition("r16:ftstap_1/b do_sys_openat2 $retval") == \
        ("r", "ftstap_1", "b", "do_sys_openat2", "kprobe")
    assert dynevents.parse_definition("e:ftstap_1/c timer.timer_start a0=+24($timer):u64") == \
        ("e", "ftstap_1", "c", "timer.timer_start", "eprobe")
    with pytest.raises(KernelError, match="malformed"):
        dynevents.parse_definition("p /bin/true:0x10")


def test_eprobes_go_to_dynamic_events(fake_root):
    root, writes = fake_root
    g = dynevents.EventGroup(root=str(root), pid=4242)
    g.add(["e:ftstap_4242/e0 timer.timer_start a0=+24($timer):u64"])
    g.close()
    assert writes == [("dynamic_events", "e:ftstap_4242/e0 timer.timer_start a0=+24($timer):u64"),
                      ("dynamic_events", "-:ftstap_4242/e0")]
    os.unlink(root / "dynamic_events")
    with pytest.raises(KernelError, match="CONFIG_EPROBE_EVENTS"):
        dynevents.EventGroup(root=str(root), pid=7).add("e:ftstap_7/e0 timer.timer_start")


def test_group_writes_and_removes(fake_root):
    root, writes = fake_root
    g = dynevents.EventGroup(root=str(root), pid=4242)
    assert g.name == "ftstap_4242"
    evs = g.add([f"p:{g.name}/f /bin/true:0x10 x=%di:s32", f"r:{g.name}/k do_exit"])
    assert [(e.kind, e.type, e.event) for e in evs] == [("uprobe", "p", "f"), ("kprobe", "r", "k")]
    assert writes == [("uprobe_events", "p:ftstap_4242/f /bin/true:0x10 x=%di:s32"),
                      ("kprobe_events", "r:ftstap_4242/k do_exit")]
    writes.clear()
    g.close()
    assert writes == [("kprobe_events", "-:ftstap_4242/k"), ("uprobe_events", "-:ftstap_4242/f")]
    writes.clear()
    g.close()                      # idempotent: nothing left to remove
    assert writes == []
    with pytest.raises(KernelError, match="closed"):
        g.add(f"p:{g.name}/again /bin/true:0x10")


def test_group_rolls_back_on_rejection(fake_root):
    root, writes = fake_root
    g = dynevents.EventGroup(root=str(root), pid=7)
    with pytest.raises(KernelError) as ei:
        g.add(["p:ftstap_7/a /bin/true:0x10", "p:ftstap_7/b /bin/true:0x20",
               "p:ftstap_7/c /bin/true:0x30 x=%BAD"])
    msg = str(ei.value)
    assert "p:ftstap_7/c /bin/true:0x30 x=%BAD" in msg
    assert "Invalid register name" in msg and "rolled back the 2 event(s)" in msg
    assert writes == [("uprobe_events", "p:ftstap_7/a /bin/true:0x10"),
                      ("uprobe_events", "p:ftstap_7/b /bin/true:0x20"),
                      ("uprobe_events", "-:ftstap_7/b"), ("uprobe_events", "-:ftstap_7/a")]
    assert g.events == []


def test_group_validates_before_writing(fake_root):
    root, writes = fake_root
    g = dynevents.EventGroup(root=str(root), pid=7)
    with pytest.raises(KernelError, match="not in this session's group"):
        g.add(["p:ftstap_7/a /bin/true:0x10", "p:other/b /bin/true:0x20"])
    with pytest.raises(KernelError, match="longer than"):
        g.add(["p:ftstap_7/a /bin/true:0x10 " + "x=%di " * 800])
    assert writes == []


def test_missing_kprobe_events_names_config(fake_root):
    root, _ = fake_root
    os.unlink(root / "kprobe_events")
    g = dynevents.EventGroup(root=str(root), pid=7)
    with pytest.raises(KernelError, match="CONFIG_KPROBE_EVENTS"):
        g.add("p:ftstap_7/a do_sys_openat2")


def test_pass5_refuses_what_the_kernel_cannot_create(fake_root):
    """Pass 2 binds kprobes from kallsyms/BTF anywhere; pass 5 refuses them,
    before anything is written, on a kernel without kprobe_events."""
    from ftstap.image.events import EventSpec
    root, writes = fake_root
    specs = [EventSpec("tracepoint", pp="kernel.trace(\"a\")", system="sched", event="a"),
             EventSpec("kprobe", pp='kernel.function("vfs_read")', symbol="vfs_read")]
    dynevents.refuse_unservable(specs, str(root))
    os.unlink(root / "kprobe_events")
    with pytest.raises(KernelError) as e:
        dynevents.refuse_unservable(specs, str(root))
    assert str(e.value) == ('probe point kernel.function("vfs_read") cannot be served: kernel.function needs '
                            'kprobe_events (CONFIG_KPROBE_EVENTS), which this kernel lacks')
    dynevents.refuse_unservable(specs[:1], str(root))
    assert writes == []


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_groups_and_list_active(fake_root):
    root, writes = fake_root
    dead, live = _dead_pid(), os.getpid()
    (root / "uprobe_events").write_text(
        f"p:ftstap_{dead}/a /bin/true:0x0000000000001139\n"
        f"r:ftstap_{live}/b /bin/true:0x0000000000001139\n"
        f"p:ftstap_{live}/c /bin/true:0x0000000000001200(0x3018)\n"
        "p:uprobes/other /bin/true:0x0000000000000010\n")
    (root / "kprobe_events").write_text(f"r8:ftstap_{live}/k do_sys_openat2+0 ret=$retval\n")
    (root / "dynamic_events").write_text(f"r8:ftstap_{live}/k do_sys_openat2+0 ret=$retval\n"
                                         f"e:ftstap_{live}/e sched.sched_switch a0=+0($prev):u64\n"
                                         f"e:ftstap_{dead}/e sched.sched_switch\n")
    (root / f"ftstap_{live}.json").write_text('{"pid": %d, "tracepoints": ["sched:sched_switch"]}' % live)
    (root / f"ftstap_{dead}.json").write_text('{"pid": %d, "tracepoints": ["x:y"]}' % dead)

    class FakeKallsyms:
        def address_of(self, name):
            return 0xffffffff81000000 if name == "do_sys_openat2" else None

    rows = dynevents.list_active(str(root), kallsyms=FakeKallsyms())
    assert [(r.type, r.target, r.address, r.pid) for r in rows] == [
        ("e", "sched:sched_switch", "-", live),
        ("r", "/bin/true:0x1139", "-", live),
        ("r", "do_sys_openat2+0", "ffffffff81000000", live),
        ("t", "sched:sched_switch", "-", live),
        ("u", "/bin/true:0x1200", "-", live)]
    assert dynevents.remove_stale_groups(str(root)) == [f"ftstap_{dead}"]
    assert writes == [("uprobe_events", f"-:ftstap_{dead}/a"), ("dynamic_events", f"-:ftstap_{dead}/e")]
    assert not (root / f"ftstap_{dead}.json").exists()
    assert (root / f"ftstap_{live}.json").exists()


def test_error_log_diff():
    assert dynevents._new_log_lines(["a", "b"], ["a", "b", "c", "d"]) == ["c", "d"]
    assert dynevents._new_log_lines([], ["x"]) == ["x"]
    assert dynevents._new_log_lines(["a", "b"], ["a", "b"]) == []

