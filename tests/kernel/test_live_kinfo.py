"""ftstap --describe and -r FILE (kernel/kinfo.py, native/describe.c): the
running kernel described, then compiled for from its description."""
import os
import subprocess
import sys

from ftstap.kernel import kinfo
from ftstap.kernel.features import KernelFeatures

SCRIPT = 'global n; probe syscall.getppid { n++ } probe timer.ms(200) { printf("n=%d\\n", n); exit() }'


def ftstap(*args, **kw):
    return subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, timeout=300, **kw)


def test_describe_then_compile_for_the_description(tfs, tmp_path):
    described = ftstap("--describe")
    assert described.returncode == 0 and described.stdout.startswith(b"FTSTAP-KINFO 1\n"), described.stderr
    path = tmp_path / "here.kinfo"
    path.write_bytes(described.stdout)
    f, live = kinfo.load(str(path)), KernelFeatures.detect()
    assert f.to_dict() == live.to_dict()                 # the same facts as pass 2 reads live
    assert f.hz == live.hz and f.tracepoint_systems() == live.tracepoint_systems()
    assert f.tracepoint_format("sched", "sched_switch").id == live.tracepoint_format("sched", "sched_switch").id
    assert bool(f.btf) == bool(live.btf) and f.kallsyms().lookup_all("schedule")
    # compiled from the description, the image runs here (it describes this kernel)
    p4 = ftstap("-r", str(path), "-p4", "-m", "fromkinfo", "-e", SCRIPT, cwd=tmp_path)
    assert p4.returncode == 0, p4.stderr
    run = ftstap("--run", str(tmp_path / "fromkinfo.ftsimg"), text=True)
    assert run.returncode == 0 and run.stdout.startswith("n="), run.stderr
    same = ftstap("-r", str(path), "-e", SCRIPT, text=True)
    assert same.returncode == 0 and same.stdout.startswith("n="), same.stderr


def test_another_kernel_is_compiled_for_but_not_run_here(tmp_path):
    text = kinfo.parse(ftstap("--describe").stdout)
    text["uname"] = b"5.10.0-other\nx86_64\n"
    path = tmp_path / "other.kinfo"
    path.write_bytes(b"FTSTAP-KINFO 1\n" + b"".join(b"F %d %s\n%s\n" % (len(v), k.encode(), v)
                                                    for k, v in text.items()) + b"E 0 end\n")
    run = ftstap("-r", str(path), "-e", SCRIPT, text=True)
    assert run.returncode != 0 and "describes 5.10.0-other (x86_64), not this kernel" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    p4 = ftstap("-r", str(path), "-p4", "-m", "other", "-e", SCRIPT, cwd=tmp_path, text=True)
    assert p4.returncode == 0 and os.path.exists(tmp_path / "other.ftsimg"), p4.stderr
    here = ftstap("--run", str(tmp_path / "other.ftsimg"), text=True)     # the image names its kernel
    assert here.returncode == 1 and "the program image is for kernel 5.10.0-other, this kernel is " \
        f"{os.uname().release}" in here.stderr, here.stderr
    release = ftstap("-r", "5.10.0-nowhere", "-p2", "-e", SCRIPT, text=True)
    assert release.returncode != 0 and "run `ftstap-run --describe > FILE`" in release.stderr


def test_ftstap_run_describes_the_kernel_as_ftstap_does(tfs, tmp_path):
    """ftstap-run --describe (no Python on the target) writes what ftstap
    --describe writes: both are native/describe.c."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run(["make", "-s", "-C", os.path.join(root, "native"), f"BIN={tmp_path}", "ftstap-run"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    described = subprocess.run([str(tmp_path / "ftstap-run"), "--describe"], capture_output=True, timeout=120)
    assert described.returncode == 0, described.stderr
    path = tmp_path / "run.kinfo"
    path.write_bytes(described.stdout)
    assert kinfo.load(str(path)).to_dict() == KernelFeatures.detect().to_dict()
    assert set(kinfo.parse(described.stdout)) == set(kinfo.parse(ftstap("--describe").stdout))
