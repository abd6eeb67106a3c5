"""The assembler (ImageBuilder), image reader, disassembler and loader checks.

Also the helpers the other test_vm_* modules import: `asm` (a tiny text
assembler over FunctionBuilder) and `run` (build, run a whole session with
output captured, return (status, stdout, stderr))."""
import codecs
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile

import pytest

from ftstap.compile.disasm import listing
from ftstap.image.builder import ImageBuilder
from ftstap.image.format import ImageError, read_image
from ftstap.image import isa
from ftstap.runtime import native


# ---- helpers shared by test_vm_* ---------------------------------------------------

def asm(fb, text, **names):
    """Assemble lines like `PUSHI 5`, `PUSHS "a\\n"`, `JZ done`, `done:` into fb.
    Operands are parsed by kind; bare words are looked up in names."""
    labels = {}

    def label(name):
        if name not in labels:
            labels[name] = fb.label(name)
        return labels[name]

    for raw in text.strip().splitlines():
        line = raw.split("#", 1)[0].strip() if not re.search(r'"[^"]*#', raw) else raw.strip()
        if not line:
            continue
        if re.fullmatch(r"\w+:", line):
            fb.place(label(line[:-1]))
            continue
        op, *args = shlex.split(line, posix=False)
        info = isa.opcode(op)
        assert info is not None, op
        vals = []
        for kind, a in zip(info.operands, args):
            if kind == "j":
                vals.append(label(a))
            elif kind in "sf":
                vals.append(codecs.decode(a[1:-1], "unicode_escape") if a.startswith('"') else names[a])
            elif a in names:
                vals.append(names[a])
            elif a == "-":
                vals.append(None)
            elif kind in "gFb" and not re.fullmatch(r"-?\d+", a):
                vals.append(a)
            elif kind == "n" and a.startswith("@"):
                vals.append(a)
            else:
                vals.append(int(a, 0))
        assert len(vals) == len(info.operands), f"{line}: operands {info.operands!r}"
        fb.emit(op, *vals)
    return fb


def probe(b, kind, text, priority=0, interval_ns=0, randomize_ns=0, locals_="", **names):
    """A probe whose handler is `text` (RET appended); locals_ one 'i'/'s' per local l0, l1, ..."""
    fb = b.function(kind, "v", "")
    for k, t in enumerate(locals_):
        names.setdefault(f"l{k}", fb.local(t))
    asm(fb, text + "\nRET", **names)
    b.probe(kind, kind, fb, priority=priority, interval_ns=interval_ns, randomize_ns=randomize_ns)
    return fb


def run(b, defines=None, timeout=None, **kw):
    """Run a program; one with nothing that fires after begin (no timer or
    event probe) gets a last begin probe calling exit(): the session would
    otherwise wait for a signal, as stap's does."""
    if isinstance(b, ImageBuilder) and not any(p.kind in (isa.PROBE_KINDS["timer"], isa.PROBE_KINDS["event"])
                                               for p in b.probes):
        probe(b, "begin", "CALLB exit -", priority=1 << 62)
    img = b.serialize() if isinstance(b, ImageBuilder) else b
    with tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e:
        status = native.run_image(img, defines, out_fd=o.fileno(), err_fd=e.fileno(), timeout_s=timeout, **kw)
        o.seek(0)
        e.seek(0)
        return status, o.read().decode(), e.read().decode()


def begin(text, locals_="", defines=None, **names):
    """Run a one-probe program; returns (status, stdout, stderr)."""
    b = ImageBuilder()
    probe(b, "begin", text, locals_=locals_, **names)
    return run(b, defines)


# ---- tests ---------------------------------------------------------------------------

def test_opcode_table_comes_from_the_c_module():
    ops = isa.opcodes()
    assert len(ops) == isa.lib.ft_opcode_count()
    assert [o.number for o in ops] == list(range(len(ops)))
    assert isa.opcode("DIV").operands == "L"
    assert isa.opcode("PUSHI").effect == (0, 1, 0, 0)
    assert all(o.doc for o in ops)
    assert isa.builtin("substr").args == "sii"


def test_image_round_trip_and_listing():
    b = ImageBuilder()
    g = b.add_global("counts", "i", "s", autoprint=True)
    b.add_global("lat", "stat", "", hist=("linear", 0, 100, 10))
    f = b.function("add", "i", "ii")
    asm(f, "LDI 0\nLDI 1\nADD\nRETI")
    h = probe(b, "begin", 'PUSHS "k"\nPUSHI 1\nAADDI counts 0 -\nPUSHI 2\nPUSHI 3\nCALL add -\nPRINTI',
              priority=-5)
    img = b.serialize()
    info = read_image(img)
    assert [x.name for x in info.globals] == ["counts", "lat"]
    assert info.globals[g].keys == "s" and info.globals[1].hist == (2, 0, 100, 10)
    assert info.probes[0].priority == -5 and info.probes[0].func == h.id
    text = listing(img)
    assert "global counts: long[string] autoprint" in text
    assert "global lat: stat hist_linear(0,100,10)" in text
    assert "AADDI    counts 0 -" in text
    assert "CALL     add() -" in text
    native.check_image(img)
    assert run(img, timeout=0.05) == (0, "5counts[\"k\"]=1\n", "")     # begin only: runs until -T


def test_builder_rejects_misuse():
    b = ImageBuilder()
    f = b.function("f")
    with pytest.raises(ImageError):
        f.emit("NOSUCH")
    with pytest.raises(ImageError):
        f.emit("PUSHI")
    lbl = f.label("x")
    f.emit("JMP", lbl)
    with pytest.raises(ImageError):
        b.serialize()


def _bad(text, ret="v", params="", locals_=""):
    b = ImageBuilder()
    f = b.function("f", ret, params)
    for t in locals_:
        f.local(t)
    asm(f, text)
    with pytest.raises(native.ImageLoadError) as e:
        native.check_image(b.serialize())
    return str(e.value)


def test_verifier_rejects_bad_code():
    assert "underflow" in _bad("ADD\nRET")
    assert "falls off" in _bad("PUSHI 1")
    assert "wrong type" in _bad('PUSHS "a"\nSTI 0\nRET', locals_="s")
    assert "bad local" in _bad("LDI 3\nRET")
    assert "differ" in _bad("PUSHI 1\nJZ a\nPUSHI 2\na:\nRET")
    assert "return of the wrong type" in _bad("PUSHI 1\nRETI")
    assert "bad global" in _bad("LDGI 0\nRET")


def test_loader_rejects_corrupt_images_without_crashing():
    """Every truncation and many byte flips of a real image: an error, never a crash
    (run in a child so a crash fails this test instead of killing pytest)."""
    b = ImageBuilder()
    b.add_global("a", "i", "is")
    probe(b, "begin", 'PUSHI 1\nPUSHS "x"\nPUSHI 5\nASETI a 0 -\nPUSHI 3\nPUSHI 0\nDIV -\nPRINTI\n'
          'PUSHI 9\nPUSHS "y"\nPRINTF "%d %s"')
    img = b.serialize()
    code = f"""
import random
from ftstap.runtime import native
img = {img!r}
for n in range(len(img)):
    try:
        native.check_image(img[:n])
        raise SystemExit("prefix %d loaded" % n)
    except native.ImageLoadError:
        pass
rnd = random.Random(1)
ok = 0
for _ in range(3000):
    b = bytearray(img)
    for _ in range(rnd.randint(1, 3)):
        b[rnd.randrange(len(b))] = rnd.randrange(256)
    try:
        native.check_image(bytes(b))
        ok += 1
    except native.ImageLoadError:
        pass
print("ok", ok)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")
