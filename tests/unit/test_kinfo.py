"""kernel/kinfo.py: kernel descriptions are parsed as untrusted input and
read by the same detection code as a live kernel."""
import os
import random

import pytest

from ftstap.errors import KernelError
from ftstap.kernel import kinfo
from ftstap.kernel.features import KernelFeatures


def entry(name: str, data: bytes) -> bytes:
    return b"F %d %s\n" % (len(data), name.encode()) + data + b"\n"


def described(**extra) -> bytes:
    files = {"uname": b"6.1.0-test\naarch64\n", "tracefs": b"/sys/kernel/tracing",
             "/sys/kernel/tracing/README": b"... e[:[<group>/][<event>]] <attached-group>.<attached-event>",
             "/sys/kernel/tracing/kprobe_events": b"", "/sys/kernel/tracing/dynamic_events": b"",
             "/sys/devices/system/cpu/online": b"0-3\n",
             "/sys/bus/event_source/devices/kprobe/type": b"6\n",
             "/sys/bus/event_source/devices/tracepoint/type": b"2\n",
             "/proc/kallsyms": b"ffffffff81000000 T _stext\nffffffff81001000 t do_thing\n",
             "/sys/kernel/tracing/events/sched/sched_switch/format": b"name: sched_switch\nID: 300\n"}
    files.update(extra)
    return b"FTSTAP-KINFO 1\n" + b"".join(entry(k, v) for k, v in files.items()) + b"E 0 end\n"


def test_a_description_is_read_as_the_kernel_it_describes(tmp_path):
    path = tmp_path / "box.kinfo"
    path.write_bytes(described())
    f = kinfo.load(str(path))
    assert (f.release, f.arch, f.version, f.cpus) == ("6.1.0-test", "aarch64", (6, 1, 0), (0, 1, 2, 3))
    assert f.kprobe_events and f.dynamic_events and not f.uprobe_events and f.eprobe_events
    assert f.pmus == {"kprobe": 6, "tracepoint": 2} and f.kallsyms_addresses and not f.btf
    assert f.tracepoint_systems() == ["sched"] and f.tracepoint_events("sched") == ["sched_switch"]
    assert f.kallsyms().lookup_all("do_thing")[0].address == 0xffffffff81001000


def test_live_and_described_detection_are_one_code_path():
    from ftstap.kernel.files import KinfoFiles
    files = KinfoFiles(kinfo.parse(described()))
    assert files.listdir("/sys/bus/event_source/devices") == ["kprobe", "tracepoint"]
    assert KernelFeatures.detect(files=files).to_dict() == KernelFeatures.detect(files=files).to_dict()
    assert isinstance(KernelFeatures.detect().release, str)        # the live files: same method


@pytest.mark.parametrize("data, why", [
    (b"ELF...", "does not start with"),
    (b"FTSTAP-KINFO 2\nE 0 end\n", "version"),
    (b"FTSTAP-KINFO 1\nF 100 /proc/kallsyms\nabc\nE 0 end\n", "more than the file holds"),
    (b"FTSTAP-KINFO 1\n" + entry("/sys/../etc/shadow", b"x") + b"E 0 end\n", "normalized absolute path"),
    (b"FTSTAP-KINFO 1\n" + entry("etc/passwd", b"x") + b"E 0 end\n", "normalized absolute path"),
    (b"FTSTAP-KINFO 1\n" + entry("/a", b"x") + entry("/a", b"y") + b"E 0 end\n", "twice"),
    (b"FTSTAP-KINFO 1\n" + entry("/a", b"x"), "cut off"),
    (b"FTSTAP-KINFO 1\nX 1 /a\nx\nE 0 end\n", "malformed"),
])
def test_damaged_descriptions_get_one_clear_error(data, why):
    with pytest.raises(KernelError, match=why):
        kinfo.parse(data, "box.kinfo")


def test_mutated_descriptions_never_fail_otherwise(tmp_path):
    good = described()
    rng = random.Random(17)
    for i in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[:rng.randrange(len(data))]
        path = tmp_path / f"m{i}.kinfo"
        path.write_bytes(bytes(data))
        try:
            kinfo.load(str(path))
        except KernelError:
            pass


def test_an_architecture_ftstap_cannot_compile_for_is_refused_by_name(tmp_path):
    path = tmp_path / "riscv.kinfo"
    path.write_bytes(described(uname=b"6.1.0-test\nriscv64\n"))
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "ftstap", "-r", str(path), "-p2", "-e", "probe begin {}"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "describes a kernel for riscv64: ftstap compiles for x86_64 and aarch64" \
        in r.stderr, r.stderr


def test_an_arm64_description_compiles_an_arm64_image_this_machine_refuses(tmp_path):
    """-r arm64.kinfo: the kprobe's fetch-args are arm64's registers, and the
    image is tagged aarch64, so --run here refuses it naming both machines."""
    path = tmp_path / "arm.kinfo"
    path.write_bytes(described(**{"/proc/kallsyms": b"ffffffc008000000 T _stext\nffffffc008001000 T do_thing\n"}))
    import subprocess
    import sys
    script = 'probe kernel.function("do_thing") { printf("%d\\n", pointer_arg(2)) }'
    r = subprocess.run([sys.executable, "-m", "ftstap", "-r", str(path), "-p3", "-e", script],
                       capture_output=True, text=True)
    assert r.returncode == 0 and " do_thing " in r.stdout and "=%x1:" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "ftstap", "-r", str(path), "-p4", "-m", "arm", "-e", script],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    if os.uname().machine == "x86_64":
        r = subprocess.run([sys.executable, "-m", "ftstap", "--run", str(tmp_path / "arm.ftsimg")],
                           capture_output=True, text=True)
        assert r.returncode == 1 and "is for aarch64 (64-bit, little-endian), this machine is x86_64" in r.stderr, \
            r.stderr


def test_a_gzipped_description_reads_the_same(tmp_path, monkeypatch):
    import gzip
    plain, packed = tmp_path / "box.kinfo", tmp_path / "box.kinfo.gz"
    plain.write_bytes(described())
    packed.write_bytes(gzip.compress(described()))
    assert kinfo.load(str(packed)).to_dict() | {"snapshot": None} == kinfo.load(str(plain)).to_dict() | {"snapshot": None}
    packed.write_bytes(gzip.compress(described())[:-20])
    with pytest.raises(KernelError, match="cut off"):
        kinfo.load(str(packed))
    packed.write_bytes(gzip.compress(described() + b"\0" * 5000))
    monkeypatch.setattr(kinfo, "MAX_INFLATED", 4096)
    with pytest.raises(KernelError, match="inflates to more than"):
        kinfo.load(str(packed))
