"""Program images are untrusted input (`ftstap --run IMAGE`): a damaged,
truncated or hostile image gives one clear error, never an internal error or
a crash -- in the Python reader (image/format.py, image/eventcheck.py)
and in the C loader and verifier (native/program.c, verify.c), the latter
also under AddressSanitizer.  The campaign is seeded (image_fuzz_support.py);
FTSTAP_IMAGE_FUZZ=N runs N mutants instead of 1000 (bench/image_fuzz.py runs
a bigger one through the real CLI)."""
import os
import struct
import subprocess
import sys
import zlib

import pytest

import image_fuzz_support as F
from ftstap.image.format import MAGIC, VERSION, BadImage, read_image
from ftstap.runtime import native

MUTANTS = int(os.environ.get("FTSTAP_IMAGE_FUZZ", "1000"))


@pytest.fixture(scope="module")
def seeds():
    return F.seeds()


@pytest.fixture(scope="module")
def mutants(seeds):
    return F.mutants(seeds, MUTANTS, seed=11)


def test_every_mutant_is_refused_clearly_or_loads(mutants):
    results = [(kind, F.check(img)) for kind, _name, img in mutants]
    internal = [(kind, r) for kind, r in results if not (r == "ok" or r.startswith("error: "))]
    assert internal == []
    # the checksum does not hide the parser: most hostile (re-sealed) mutants
    # reach the structure, event and code checks behind it
    hostile = [r for kind, r in results if not kind.startswith("damaged")]
    behind = [r for r in hostile if r.startswith("error: ") and "checksum" not in r]
    assert len(behind) > len(hostile) // 2
    assert any("event" in r for r in behind) and any("function" in r for r in behind)
    damaged = [r for kind, r in results if kind.startswith("damaged")]
    assert damaged and all(any(w in r for w in ("checksum", "truncated", "not an ftstap", "version", "image is for"))
                           for r in damaged)


def test_every_single_bit_flip_is_caught(seeds):
    img = seeds["plain0"]
    for i in range(len(img) * 8):
        b = bytearray(img)
        b[i // 8] ^= 1 << (i % 8)
        assert F.check(bytes(b)).startswith("error: "), f"bit {i} flipped was not noticed"
        with pytest.raises(native.ImageLoadError):   # the C loader checks the checksum too
            native.check_image(bytes(b))


def test_header_errors_say_what_is_wrong(seeds):
    img = seeds["plain0"]
    old = MAGIC + struct.pack("<II", 1, 0) + img[16:]
    arm64 = F.reseal(img[:12] + struct.pack("<HBB", 183, 1, 8) + img[16:])
    cases = {b"": "not an ftstap program image",
             b"#!/bin/sh\necho hi\n": "not an ftstap program image",
             img[:12]: "truncated image",
             old: f"unsupported program image version 1 (this ftstap reads version {VERSION}: compile the "
                  "script again)",
             arm64: "the program image is for aarch64 (64-bit, little-endian), this machine is "
                    "x86_64 (64-bit, little-endian): compile the script for this machine",
             img[:-1]: "damaged program image (checksum mismatch)",
             F.reseal(img[:-1]): "bad program image: bad probe count 1",
             F.reseal(img + b"\0" * 5): "trailing bytes after the image"}
    for data, reason in cases.items():
        with pytest.raises(BadImage) as e:
            read_image(data)
        assert reason in str(e.value)
    with pytest.raises(native.ImageLoadError) as e:       # the C loader says the same
        native.check_image(arm64)
    assert cases[arm64] in str(e.value)


# ---- the event specs behind the checksum -----------------------------------------------

def _with_spec(seeds, **change):
    spec = dict(F.SPECS[change.pop("index", 0)])
    for k, v in change.items():
        if v is ...:
            spec.pop(k)
        else:
            spec[k] = v
    img = seeds["all_kinds"]
    events = read_image(img).events
    events[0] = spec
    return F.with_events(img, events)


@pytest.mark.parametrize("change, reason", [
    (dict(system="../../../etc"), 'bad system name "../../../etc"'),
    (dict(event="sys_enter_getpid\n-:ftstap_1/e0"), "bad event name"),
    (dict(event=...), "a tracepoint event needs event"),
    (dict(kind="module"), "bad kind 255"),
    (dict(path="/bin/true"), 'field "path" is not for a tracepoint event'),
    (dict(_flags=128), "bad flags 0x90"),      # task (16) and an unknown bit
    (dict(system=1 << 20), "system: bad string id 1048576"),
    (dict(filter="fd == 3\n"), "filter is too long or has control characters"),
    (dict(pp="\udc80"), "pp is not valid UTF-8"),
    (dict(index=2, path="usr/bin/true"), 'bad path "usr/bin/true"'),
    (dict(index=2, path="/usr/bin/../bin/true"), 'bad path "/usr/bin/../bin/true"'),
    (dict(index=2, path="/tmp/a b"), 'bad path "/tmp/a b"'),
    (dict(index=2, offset=-1), "offset -1 is not a number in"),
    (dict(index=2, args=["a0=%di:s32 a1=%si:u64"]), "bad fetch-arg"),
    (dict(index=2, args=["a0=%di:s32\n-:ftstap_1/e0"]), "bad fetch-arg"),
    (dict(index=2, args=["a0=+0(/etc/passwd):string"]), "bad fetch-arg"),
    (dict(index=2, args=["a0=%di:s32"], fields={"a1": 16}), 'bad field "a1" at 16'),
    (dict(index=2, fields={"zz": 16}), 'bad field "zz" at 16'),
    (dict(index=3, symbol="vfs_read /bin/sh:0"), "bad kernel symbol"),
    (dict(index=3, maxactive=5000), "maxactive 5000 is not a number in [0, 4096]"),
    (dict(index=4, type=1 << 31), "type 2147483648 is not a number in"),
    (dict(index=4, sample_freq=-5), "sample_freq -5 is not a number in"),
])
def test_hostile_event_fields_are_refused(seeds, change, reason):
    img = _with_spec(seeds, **change)
    with pytest.raises(BadImage) as e:
        read_image(img)
    assert str(e.value).startswith("bad program image: event 0: ")
    assert reason in str(e.value)


def test_event_records_that_are_not_events(seeds):
    img = seeds["all_kinds"]
    rest = read_image(img).events[1:]
    for raw, events, reason in [(b"\0" * 68, [], "event 0: bad kind 0"),
                                (b"\x01", rest, "bad event count 5"),
                                (b"\x01" + b"\0" * 63 + b"\xff\xff\0\0", [], "truncated image")]:
        bad = F.with_events(img, [raw] + events)
        with pytest.raises(BadImage) as e:
            read_image(bad)
        assert reason in str(e.value)
        with pytest.raises(native.ImageLoadError):        # and the C loader refuses it too
            native.check_image(bad)


def test_what_the_compiler_writes_passes(seeds):
    for name, img in seeds.items():
        info = read_image(img)
        native.check_image(img)
        if info.events:            # what the mutators re-serialize is byte for byte the same
            assert F.with_events(img, info.events) == img, name


# ---- the C loader under AddressSanitizer, and the real CLI ---------------------------

def test_c_loader_under_asan(mutants, tmp_path):
    try:
        exe = F.build_asan_loader(str(tmp_path / "load_images"))
    except subprocess.CalledProcessError as e:
        pytest.fail(f"cannot build the ASan loader:\n{e.stderr}")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("gcc not found on PATH: the ASan image loader cannot run in CI")
        pytest.skip("gcc not found on PATH")
    paths = []
    for i, (_kind, _name, img) in enumerate(mutants):
        p = tmp_path / f"m{i:05d}.img"
        p.write_bytes(img)
        paths.append(str(p))
    run = F.run_asan_loader(exe, paths)
    assert run.returncode == 0, run.stderr[-4000:]
    lines = run.stdout.splitlines()
    assert len(lines) == len(paths)
    verdicts = [line.split(" ", 1)[0] for line in lines]
    assert set(verdicts) <= {"ok", "refused"} and "refused" in verdicts
    # nothing the C loader refuses gets past the Python side's checks either
    for (_kind, _name, img), v in zip(mutants, verdicts):
        if v == "refused":
            assert F.check(img) != "ok"


def _run_cli(path: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftstap", "--run", path], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, FTSTAP_DEBUG=""))


def test_cli_prints_one_error_line(seeds, tmp_path):
    img = seeds["all_kinds"]
    flipped = bytearray(img)
    flipped[200] ^= 0x10
    info = read_image(img)
    events = info.events
    events[2] = dict(events[2], path="/tmp/../etc/shadow")
    table = 24 + len(info.kernel.encode())           # the string table, after the kernel release
    bad_op = bytearray(img)
    bad_op[img.index(info.functions[0].code)] = 0xFF
    cases = {"damaged": (bytes(flipped), "damaged program image (checksum mismatch)"),
             "hostile": (F.reseal(img[:table] + struct.pack("<I", 0xFFFFFFFF) + img[table + 4:]),
                         "bad program image: bad string count 4294967295"),
             "kernel": (F.reseal(img[:20] + struct.pack("<I", 65) + img[24:]), "bad program image: bad kernel release"),
             "event": (F.with_events(img, events), 'event 2: bad path "/tmp/../etc/shadow"'),
             "code": (F.reseal(bytes(bad_op)), "bad program image: function probe_0 at 0: bad opcode")}
    for name, (data, reason) in cases.items():
        path = tmp_path / f"{name}.ftsimg"
        path.write_bytes(data)
        r = _run_cli(str(path))
        assert (r.returncode, r.stdout) == (1, ""), name
        assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"error: {path}: "), r.stderr
        assert reason in r.stderr and "internal error" not in r.stderr


def test_cli_runs_a_good_image(seeds, tmp_path):
    path = tmp_path / "hello.ftsimg"
    path.write_bytes(seeds["plain0"])
    r = _run_cli(str(path))
    assert (r.returncode, r.stdout, r.stderr) == (0, "hello\n", "")
    assert zlib.crc32(seeds["plain0"][20:]) == struct.unpack_from("<I", seeds["plain0"], 16)[0]


def test_an_image_for_another_kernel_is_refused_by_both_names(tmp_path):
    """-r compiles for a described kernel: the image names it, and a run on
    another kernel is refused before anything touches tracefs."""
    from ftstap.image.builder import ImageBuilder
    b = ImageBuilder(kernel="5.4.0-elsewhere")
    f = b.function("probe_0")
    f.emit("RET")
    b.probe("begin", "begin", f)
    path = tmp_path / "other.ftsimg"
    path.write_bytes(b.serialize())
    assert read_image(path.read_bytes()).kernel == "5.4.0-elsewhere"
    r = _run_cli(str(path))
    assert r.returncode == 1 and r.stderr.splitlines() == [
        f"error: {path}: the program image is for kernel 5.4.0-elsewhere, this kernel is {os.uname().release}: "
        "compile the script for this kernel (here, or with -r and this kernel's description)"], r.stderr
