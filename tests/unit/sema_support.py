"""Helpers for the pass-2 unit tests: run the real pipeline (pass 1, then
run_pass2) on a script against a small synthetic kernel snapshot, so the
tests need neither root nor tracefs."""
from __future__ import annotations

import json
import os

import pytest

from ftstap.errors import ErrorList, FtstapError
from ftstap.kernel.features import KernelFeatures
from ftstap.lang.frontend import run_pass1
from ftstap.lang.source import Source
from ftstap.sema.elaborate import run_pass2

HEAD = """name: {event}
ID: {id}
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

"""

EVENTS = {
    ("syscalls", "sys_enter_sync"): ["int __syscall_nr;8;4;1"],
    ("syscalls", "sys_exit_sync"): ["int __syscall_nr;8;4;1", "long ret;16;8;1"],
    ("syscalls", "sys_enter_openat"): ["int __syscall_nr;8;4;1", "int dfd;16;8;0",
                                       "const char * filename;24;8;0", "int flags;32;8;0",
                                       "umode_t mode;40;8;0"],
    ("syscalls", "sys_exit_openat"): ["int __syscall_nr;8;4;1", "long ret;16;8;1"],
    ("syscalls", "sys_enter_select"): ["int __syscall_nr;8;4;1", "int n;16;8;0"],
    ("sched", "sched_switch"): ["char prev_comm[16];8;16;0", "pid_t prev_pid;24;4;1",
                                "int prev_prio;28;4;1", "long prev_state;32;8;1",
                                "char next_comm[16];40;16;0", "pid_t next_pid;56;4;1",
                                "int next_prio;60;4;1"],
    ("sched", "sched_process_exec"): ["__data_loc char[] filename;8;4;0", "pid_t pid;12;4;1",
                                      "pid_t old_pid;16;4;1"],
    ("net", "netif_receive_skb"): ["void * skbaddr;8;8;0", "unsigned int len;16;4;0",
                                   "__data_loc char[] name;20;4;0"],
}


def make_snapshot(directory, events=EVENTS, kprobes=False) -> KernelFeatures:
    d = {"release": "6.1.0-test", "version": [6, 1, 0], "arch": "x86_64", "tracefs": None,
         "tracefs_error": None, "kprobe_events": kprobes, "uprobe_events": True,
         "dynamic_events": True, "pmus": {"software": 1, "tracepoint": 2}, "btf": False,
         "kallsyms_addresses": True, "cpus": [0, 1], "snapshot_version": 1}
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "features.json"), "w") as f:
        json.dump(d, f)
    for n, ((system, event), fields) in enumerate(events.items()):
        path = os.path.join(directory, "events", system, event)
        os.makedirs(path, exist_ok=True)
        text = HEAD.format(event=event, id=100 + n)
        for fd in fields:
            decl, off, size, signed = fd.split(";")
            text += f"\tfield:{decl};\toffset:{off};\tsize:{size};\tsigned:{signed};\n"
        with open(os.path.join(path, "format"), "w") as f:
            f.write(text + "\nprint fmt: \"\"\n")
    return KernelFeatures.from_snapshot(str(directory))


@pytest.fixture
def features(tmp_path):
    return make_snapshot(tmp_path / "snap")


def elaborate(script: str, features=None, **kw):
    """Pass 2 as `stap -u -p2`, as stap's own semok cases run: probes with
    empty bodies are what binding tests bind, and -u keeps them."""
    kw.setdefault("unoptimized", True)
    r = run_pass1(Source("<input>", script), [])
    return run_pass2(r.script, r.tapsets, features, **kw)


def error_of(script: str, features=None, **kw):
    """The single semantic error the script must fail with."""
    with pytest.raises(FtstapError) as info:
        elaborate(script, features, **kw)
    e = info.value
    if isinstance(e, ErrorList):
        assert len(e.errors) >= 1
        e = e.errors[0]
    return e
