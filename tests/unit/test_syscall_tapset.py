"""The syscall tapset as stap defines it: formatting of the table's
expressions, and every variable SystemTap's own buildok cases read from a
syscall.* probe is one ftstap defines (from -L), with the same type."""
import json
import os
import re
import subprocess
import sys

import pytest

from ftstap.lang import ast as A
from ftstap.probes.sysdefs import expr, parse_table

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDOK = os.path.join(HERE, "..", "..", "..", "shared", "conformance", "stap-testsuite", "buildok")
CASES = ["syscalls-detailed.stp", "syscalls2-detailed.stp"]


def test_table_parses():
    defs = parse_table("stat=newstat|stat: filename=user_string_quoted($filename) x=1 | %s:filename, +%d:x\n"
                       "delete_module=#name_user,flags: f=$flags\nstatfs64=-: path=\"\" |\n")
    assert defs["stat"].tracepoints == ["newstat", "stat"]
    assert defs["stat"].argstr == [(False, "%s", "filename"), (True, "%d", "x")]
    assert defs["delete_module"].raw_args == ["name_user", "flags"]
    assert defs["statfs64"].absent


def test_expr():
    assert expr("f($a,1,\"x\",y)") == A.Call("f", (A.Target("$a"), A.Number(1), A.String("x"), A.Symbol("y")))
    e = expr("$flags", {"flags": 1})
    assert e == A.Target("$args", (A.Member(index=A.Number(1)),))


def _run(script):
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", script], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_formatters():
    out = _run('probe begin { println(_sys_open_flag_str(0x80000)); println(_sys_open_flag_str(01|0100|01000));'
               ' println(_dfd_str(-100)); println(_dfd_str(3)); println(_access_mode_str(0));'
               ' println(_access_mode_str(6)); println(_mmap_flags(0x22)); println(_futex_op_str(0x81));'
               ' println(_wait4_opt_str(1)); println(_wait_status_str(0x100)); println(_mprotect_prot_str(0));'
               ' println(_sock_type_str(0x80001)); println(_sock_family_str(10)); println(return_str(1, -2));'
               ' println(_ftstap_creat_mode(0x40, 0644)); exit() }')
    assert out.split("\n")[:-1] == [
        "O_RDONLY|O_CLOEXEC", "O_WRONLY|O_CREAT|O_TRUNC", "AT_FDCWD", "3", "F_OK", "R_OK|W_OK",
        "MAP_PRIVATE|MAP_ANONYMOUS", "FUTEX_WAKE_PRIVATE", "WNOHANG", "WEXITSTATUS=1", "PROT_NONE",
        "SOCK_STREAM|SOCK_CLOEXEC", "AF_INET6", "-2 (ENOENT)", ", 0644"]


def _needs(path):
    """{probe point: {variable: type}} read through printf in a buildok case."""
    from ftstap.lang.frontend import run_pass1
    from ftstap.lang.source import read_source
    out = {}

    def walk(node, vs):
        if isinstance(node, A.Print) and node.fmt is not None and node.name.endswith("printf"):
            convs = [c for c in re.findall(r"%[-+ #0]*\d*(?:\.\d+)?[lh]*([a-zA-Z%])", node.fmt) if c != "%"]
            for c, a in zip(convs, node.args):
                if isinstance(a, A.Symbol):
                    vs.setdefault(a.name, "string" if c == "s" else "long")
        if hasattr(type(node), "_fields"):
            for f in type(node)._fields:
                walk(getattr(node, f), vs)
        elif isinstance(node, (list, tuple)):
            for x in node:
                walk(x, vs)

    for p in run_pass1(read_source(path), [], with_tapsets=False).script.items:
        if isinstance(p, A.Probe):
            vs = {}
            walk(p.body, vs)
            for pt in p.points:
                out.setdefault(".".join(c.name for c in pt.components), {}).update(vs)
    return out


@pytest.mark.skipif(not os.path.isdir("/sys/kernel/tracing/events/syscalls") and
                    not os.path.isdir("/sys/kernel/debug/tracing/events/syscalls"),
                    reason="needs the syscalls:* tracepoints (tracefs mounted, root)")
def test_every_buildok_variable_is_defined():
    if not os.path.isdir(BUILDOK):
        pytest.skip(f"SystemTap's buildok cases are not at {BUILDOK} (../shared/conformance)")
    listed = {}
    for pat in ("syscall.*", "syscall.*.return"):
        p = subprocess.run([sys.executable, "-m", "ftstap", "-L", pat], capture_output=True, text=True, timeout=120)
        for line in p.stdout.splitlines():
            parts = line.split()
            listed[parts[0]] = dict(v.split(":", 1) for v in parts[1:] if ":" in v)
    missing = []
    for case in CASES:
        for point, vs in _needs(os.path.join(BUILDOK, case)).items():
            if point not in listed:
                continue          # an optional probe point this kernel lacks (compat_*, 32-bit calls)
            for var, t in vs.items():
                if listed[point].get(var) != t:
                    missing.append(f"{point} {var}:{t} (ftstap: {listed[point].get(var)})")
    assert not missing, "\n".join(missing)


def test_table_gates_variables_by_release():
    d = parse_table('accept: sockfd=$fd flags<=2.5=0 flags_str<=2.5="0"\n')["accept"]
    assert d.items == [("sockfd", "$fd"), ("flags", "0"), ("flags_str", '"0"')]
    assert d.until == {"flags": "2.5", "flags_str": "2.5"}


def _ftstap(*args):
    return subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not os.path.isdir("/sys/kernel/tracing/events/syscalls/sys_enter_accept"),
                    reason="needs the syscalls:sys_enter_accept tracepoint (tracefs mounted, root)")
def test_compatible_selects_the_variables_of_that_release():
    # stap's tapset defines accept's flags/flags_str only up to 2.5
    def listed(*opts):
        return _ftstap(*opts, "-L", "syscall.accept").stdout.split()[1:]
    assert "flags_str:string" not in listed() and "sockfd:long" in listed()
    assert {"flags:long", "flags_str:string"} <= set(listed("--compatible=2.5"))
    script = "probe syscall.accept { println(flags_str) }"
    assert _ftstap("-p2", "-e", script).returncode == 1            # unresolved, as in stap 5
    assert _ftstap("--compatible=2.5", "-p2", "-e", script).returncode == 0


@pytest.mark.skipif(not os.path.isdir("/sys/kernel/tracing/events/syscalls/sys_enter_accept"),
                    reason="needs the syscalls:sys_enter_accept tracepoint (tracefs mounted, root)")
def test_check_version_warns_of_version_dependent_probe_points():
    script = "probe nd_syscall.accept { println(sockfd) }"
    quiet = _ftstap("-p2", "-e", script)
    assert quiet.returncode == 0 and "WARNING" not in quiet.stderr
    warned = _ftstap("--check-version", "-p2", "-e", script)
    assert warned.returncode == 0
    assert ("WARNING: nd_syscall.accept: its variables depend on the SystemTap version (flags, flags_str only up "
            "to SystemTap 2.5; this script is compiled as 5.3) [--check-version]") in warned.stderr
    assert "at <input>:1:7" in warned.stderr
    fatal = _ftstap("--check-version", "-W", "--compatible=1.4", "-p2", "-e", script)
    assert fatal.returncode == 1 and "warnings are errors" in fatal.stderr
