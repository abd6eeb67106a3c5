"""The image fuzz campaign, shared by tests/unit/test_image_fuzz.py (a fast
slice) and bench/image_fuzz.py (the big one): seed images, seeded mutators,
and the checks `ftstap --run IMAGE` makes before it touches the kernel.

A mutant is one of:
  - damaged: bits flipped, bytes replaced, a u32 overwritten, bytes cut
    out or the image truncated -- the checksum catches nearly all of these;
  - hostile: the same damage with the checksum recomputed afterwards, so the
    parser and verifier behind the checksum see it (what someone crafting an
    image would do);
  - hostile events: one field of one event spec replaced by a value the
    compiler never writes (path tricks, newlines, out-of-range numbers, bad
    kinds, flags or string ids), or a record replaced by garbage,
    re-serialized with a valid checksum.

Every mutant must end as one clear error (an FtstapError: `ftstap --run`
prints one `error: ...` line and exits 1) or load cleanly; any other
exception is an "internal error", a signal is a crash."""
from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NATIVE = os.path.join(ROOT, "native")
from ftstap.image.format import HEADER_SIZE as HEADER     # noqa: E402  magic, version, machine, checksum

# Scripts compiled in-process into seed images (no kernel needed).
PLAIN_SCRIPTS = [
    'probe begin { println("hello"); exit() }',
    """global s, t, h, a, n
       function f(x:long, y:string) { return sprintf("%d%s", x, y) }
       probe begin { for (i = 0; i < 10; i++) { s <<< i; t <<< i; h[i % 3] <<< i; a[i, sprint(i)] = i }
                     printf("%s %d\\n", "x", @sum(s)); print(@hist_log(s)); print(@hist_linear(t, 0, 10, 2))
                     foreach ([k] in h-) printf("%d %d\\n", k, @count(h[k]))
                     try { n = 1 / n } catch (e) { println(e) }
                     exit() }
       probe end { println(f(1, "a")); delete a[*, "3"] }""",
    """global c
       probe timer.ms(10) { c++; if (c > 2) exit() }
       probe end { printf("%d %s\\n", c, execname()) }""",
]
# Scripts with kernel events: compiled only where this kernel has them.
EVENT_SCRIPTS = [
    """global n
       probe syscall.getpid { n[execname()]++; printf("%d %s\\n", pid(), execname()) }
       probe timer.ms(100) { exit() }
       probe end { foreach (k in n) printf("%s %d\\n", k, n[k]) }""",
    'probe syscall.read { if (fd == 3) printf("%s\\n", execname()) } probe timer.ms(50) { exit() }',
    'probe perf.sw.cpu_clock.sample(100000) { print_backtrace() } probe timer.ms(50) { exit() }',
    'probe process("/bin/true").function("main") { println($argc) } probe timer.ms(50) { exit() }',
]
# Event specs of every kind and field the compiler writes (for an image made
# with ImageBuilder, so even a machine without tracefs has hostile events).
SPECS = [
    {"kind": "tracepoint", "pp": "syscall.getpid", "system": "syscalls", "event": "sys_enter_getpid",
     "filter": "common_pid != 7", "task": True},
    {"kind": "eprobe", "pp": 'kernel.trace("timer:timer_start")', "system": "timer", "event": "timer_start",
     "args": ["a0=+16($timer):u64"], "fields": {"a0": 8}},
    {"kind": "uprobe", "pp": 'process("/usr/bin/true").function("main")', "path": "/usr/bin/true",
     "offset": 8976, "symbol": "main", "args": ["a0=%di:s32", "a1=+0(%si):ustring"],
     "fields": {"a0": 16, "a1": 20}, "callchain": True},
    {"kind": "kprobe", "pp": 'kernel.function("vfs_read").return', "symbol": "vfs_read", "is_return": True,
     "maxactive": 16, "args": ["a0=$retval:s64"], "fields": {"a0": 24}, "ksyms": True, "counting": True},
    {"kind": "perf", "pp": "perf.sw.cpu_clock.hz(99)", "type": 1, "config": 0, "sample_freq": 99,
     "callchain": True, "ksyms": True},
]
HOSTILE_TEXTS = ["", "x" * 5000, "../../../etc/passwd", "a\nb", "-:ftstap_1/e0", "a b", "/tmp/x y:1",
                 "\u00e9\u0000", "\udc80", "%di", "a0=%di:s32 a1=%si:u64", "a0=%di:s32\n-:x/y", "a9=%di:bogus",
                 1 << 20, 0xFFFFFFFE]      # numbers: string ids out of range
HOSTILE_INTS = [-1, 0, 1, 4097, 65535, 1 << 31, (1 << 32) - 1, -(1 << 63), (1 << 63) - 1]


def _compile(text: str) -> bytes:
    from ftstap.compile.codegen import CodeGen
    from ftstap.kernel.features import KernelFeatures
    from ftstap.lang import frontend
    from ftstap.lang.source import Source
    from ftstap.sema.elaborate import run_pass2
    p1 = frontend.run_pass1(Source("<fuzz>", text), [])
    return CodeGen(run_pass2(p1.script, p1.tapsets, KernelFeatures.current())).build()


def _all_kinds_image() -> bytes:
    from ftstap.image.builder import ImageBuilder
    b = ImageBuilder()
    for i, spec in enumerate(SPECS):
        fb = b.function(f"probe_{i}")
        fb.emit("PUSHI", i)
        fb.emit("POPI")
        fb.emit("RET")
        b.probe(spec["pp"], "event", fb, event=b.event(spec))
    return b.serialize()


def seeds(with_events: bool = True) -> dict[str, bytes]:
    """name -> image: the plain scripts, the all-kinds image, and the event
    scripts this kernel can compile (skipped quietly where it cannot)."""
    from ftstap.errors import FtstapError
    out = {f"plain{i}": _compile(t) for i, t in enumerate(PLAIN_SCRIPTS)}
    out["all_kinds"] = _all_kinds_image()
    if with_events:
        for i, text in enumerate(EVENT_SCRIPTS):
            try:
                out[f"events{i}"] = _compile(text)
            except (FtstapError, OSError):
                pass
    return out


# ---- mutators ----------------------------------------------------------------------------

def reseal(img: bytes) -> bytes:
    """The image with its checksum recomputed over whatever its body now is."""
    if len(img) < HEADER:
        return img
    return img[:HEADER - 4] + struct.pack("<I", zlib.crc32(img[HEADER:])) + img[HEADER:]


def _split(img: bytes) -> tuple[int, int, list[bytes], int]:
    """(end of the string table, start of the events section, the strings,
    start of the string table: after the kernel release) of a well-formed image."""
    from ftstap.image.format import read_image
    info = read_image(img)
    table = HEADER + 4 + len(info.kernel.encode("utf-8", "surrogateescape"))
    strings_end = table + 4 + sum(4 + len(s) for s in info.strings)
    size = 4 + sum(len(_pack_event(e, {s: i for i, s in enumerate(info.strings)}, []))
                   for e in info.events) if info.events else 0
    return strings_end, len(img) - size, list(info.strings), table


def _pack_event(e, ids: dict, new: list) -> bytes:
    """An events-section record of e: a dict as EventSpec.to_dict() gives
    (texts may be ints: raw string ids; "_flags" adds raw flag bits; an
    unknown kind is 255), or raw bytes.  Strings not in ids are added to new."""
    from ftstap.image.eventcheck import EVENT_HEAD, INTS, TEXTS
    from ftstap.image.isa import EVENT_FLAGS, EVENT_KINDS, NO_LOCATION
    if isinstance(e, bytes):
        return e

    def sid(v) -> int:
        if isinstance(v, int):
            return v & 0xFFFFFFFF
        b = v.encode("utf-8", "surrogateescape")
        if b not in ids:
            ids[b] = len(ids)
            new.append(b)
        return ids[b]

    kind = EVENT_KINDS.get(e.get("kind"), 255)
    flags = (sum(bit for n, bit in EVENT_FLAGS.items() if e.get(n)) | e.get("_flags", 0)) & 0xFF
    widths = dict(zip(INTS, (16, 32, 64, 64, 64, 64)))

    def num(n) -> int:
        v, w = int(e.get(n, 0)), widths[n]
        v &= (1 << w) - 1
        return v - (1 << w) if w == 64 and v >> 63 else v
    out = EVENT_HEAD.pack(kind, flags, *(num(n) for n in INTS),
                          *(sid(e[t]) if e.get(t, "") != "" else NO_LOCATION for t in TEXTS))
    args = e.get("args", [])
    out += struct.pack(f"<H{len(args)}I", len(args), *(sid(a) for a in args))
    fields = e.get("fields", {})
    out += struct.pack("<H", len(fields))
    for name, off in fields.items():
        out += struct.pack("<IH", sid(name), off & 0xFFFF)
    return out


def with_events(img: bytes, events: list) -> bytes:
    """A well-formed image with its events section replaced: dicts (see
    _pack_event; new strings are appended to the string table) or raw bytes."""
    strings_end, start, strings, at = _split(img)
    ids: dict[bytes, int] = {}
    for i, b in enumerate(strings):
        ids.setdefault(b, i)
    new: list[bytes] = []
    section = struct.pack("<I", len(events)) + b"".join(_pack_event(e, ids, new) for e in events)
    table = struct.pack("<I", len(strings) + len(new)) + img[at + 4:strings_end]
    table += b"".join(struct.pack("<I", len(b)) + b for b in new)
    return reseal(img[:at] + table + img[strings_end:start] + section)


def _damage(rng: random.Random, img: bytes) -> tuple[str, bytes]:
    b = bytearray(img)
    how = rng.choice(["flip", "flip", "byte", "u32", "truncate", "cut", "insert"])
    if how == "flip":
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif how == "byte":
        b[rng.randrange(len(b))] = rng.choice([0, 1, 0x7f, 0x80, 0xff, ord("{"), ord('"'), rng.randrange(256)])
    elif how == "u32":
        at = rng.randrange(max(len(b) - 3, 1))
        v = rng.choice([0, 1, 2, 0xff, 0xffff, 0x7fffffff, 0xffffffff, len(b), rng.randrange(1 << 32)])
        b[at:at + 4] = struct.pack("<I", v)[:len(b) - at]
    elif how == "truncate":
        del b[rng.randrange(len(b)):]
    elif how == "cut":
        at = rng.randrange(len(b))
        del b[at:at + rng.randint(1, 16)]
    else:
        at = rng.randrange(len(b) + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return how, bytes(b)


def _hostile_event(rng: random.Random, img: bytes) -> tuple[str, bytes] | None:
    from ftstap.image.eventcheck import INTS, TEXTS
    from ftstap.image.format import read_image
    events = [dict(e) for e in read_image(img).events]
    if not events:
        return None
    i = rng.randrange(len(events))
    e = events[i]
    how = rng.choice(["value", "value", "value", "drop", "raw"])
    if how == "drop" and e:
        e.pop(rng.choice(sorted(e)))
    elif how == "raw":
        good = _pack_event(e, {}, [])
        events[i] = rng.choice([b"", b"\x01", b"\0" * 68, bytes(rng.randrange(256) for _ in range(80)),
                                good[:rng.randrange(len(good))], good[:-2] + b"\xff\xff"])
    else:
        f = rng.choice(list(TEXTS) + list(INTS) + ["kind", "_flags", "args", "fields", "is_return", "task"])
        if f in TEXTS:
            e[f] = rng.choice(HOSTILE_TEXTS)
        elif f in INTS:
            e[f] = rng.choice(HOSTILE_INTS)
        elif f == "kind":
            e[f] = rng.choice(["module", "perf", "kprobe", "uprobe"])
        elif f == "_flags":
            e[f] = rng.choice([32, 64, 128, 255])
        elif f == "args":
            e[f] = [rng.choice(HOSTILE_TEXTS)]
        elif f == "fields":
            e[f] = {rng.choice(["a0", "a\n", "", "zz"]): rng.choice(HOSTILE_INTS)}
        else:
            e[f] = not e.get(f)
    return f"event-{how}", with_events(img, events)


def mutants(seed_images: dict[str, bytes], n: int, seed: int = 1):
    """n (kind, seed name, image) mutants, the same for the same seed; each
    differs from its seed image."""
    rng = random.Random(seed)
    names = sorted(seed_images)
    out = []
    while len(out) < n:
        name = rng.choice(names)
        img = seed_images[name]
        r = rng.random()
        if r < 0.3:
            how, m = _damage(rng, img)
            got = (f"damaged-{how}", m)
        elif r < 0.75:
            how, m = _damage(rng, img)
            got = (f"hostile-{how}", reseal(m))
        else:
            got = _hostile_event(rng, img)
        if got is not None and got[1] != img:
            out.append((got[0], name, got[1]))
    return out


# ---- what `ftstap --run IMAGE` checks before it touches the kernel -------------------------

def check(img: bytes) -> str:
    """'ok', 'error: MESSAGE' (a clear FtstapError) or 'internal: TYPE: MESSAGE'."""
    from ftstap.image.format import read_image
    from ftstap.errors import FtstapError
    from ftstap.runtime import native, session
    try:
        read_image(img)                # backend.run: which probes there are
        session.image_events(img)      # image/events.py: the event specs
        native.check_image(img)        # native/program.c + verify.c
    except FtstapError as e:
        return f"error: {e}"
    except Exception as e:             # what cli.py would call an internal error
        return f"internal: {type(e).__name__}: {e}"
    return "ok"


# ---- the C loader under AddressSanitizer -----------------------------------------------

def build_asan_loader(out_path: str) -> str | None:
    """native/tests/load_images.c under ASan/UBSan, built by native/tests/Makefile
    (with every C file of the core, as ftstap/_build.py builds it) as
    out_path, which must end in /load_images; None without gcc or make."""
    if shutil.which("gcc") is None or shutil.which("make") is None:
        return None
    bin_dir, name = os.path.split(os.path.abspath(out_path))
    assert name == "load_images", out_path
    subprocess.run(["make", "-s", "-C", os.path.join(NATIVE, "tests"), f"-j{os.cpu_count() or 1}",
                    f"BIN={bin_dir}", os.path.join(bin_dir, name)],
                   check=True, capture_output=True, text=True)
    return out_path


def run_asan_loader(exe: str, paths: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    return subprocess.run([exe, *paths], capture_output=True, text=True, env=env, timeout=600)
