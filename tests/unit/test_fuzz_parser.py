"""Fuzzing pass 1: whatever bytes come in, pass 1 either parses them or
raises an FtstapError that names a place (`file:line:col`); never any other
exception, and never a Python traceback from the real CLI.

Seeds are SystemTap's own testsuite scripts, read in place from
../shared/conformance/stap-testsuite (never copied into this repository)."""
import glob
import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftstap.errors import FtstapError
from ftstap.lang import frontend, printer
from ftstap.lang.preprocess import PPContext, Preprocessor
from ftstap.lang.source import Source

CORPUS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                       "conformance", "stap-testsuite"))
LOCATION = re.compile(r"\S+:\d+:\d+")
MAX_SEED_BYTES = 8192
# FTSTAP_FUZZ_EXAMPLES=50000 for a long campaign; the default keeps the test fast.
EXAMPLES = int(os.environ.get("FTSTAP_FUZZ_EXAMPLES", "1000"))
OPERATOR_BYTES = b"(){}[]%?:;,.+-*/<>=!~&|^@$#\"\\\n\t "


def _seeds() -> list[bytes]:
    paths = sorted(glob.glob(os.path.join(CORPUS, "**", "*.stp"), recursive=True))
    out = []
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        if len(data) <= MAX_SEED_BYTES:
            out.append(data)
    return out


SEEDS = _seeds() if os.path.isdir(CORPUS) else []


@pytest.fixture(autouse=True, scope="module")
def _need_corpus():
    if not SEEDS:
        if os.environ.get("CI"):
            pytest.fail(f"the stap-testsuite corpus is missing at {CORPUS}")
        pytest.skip("the stap-testsuite corpus is not present")


# ---- mutations ---------------------------------------------------------------------
def _slice(draw, data: bytes) -> tuple[int, int]:
    i = draw(st.integers(0, max(len(data) - 1, 0)))
    return i, min(len(data), i + draw(st.integers(1, 12)))


@st.composite
def mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "operators", "truncate",
                                 "bad-utf8", "nul", "nest", "keyword"]))
    if not data:
        return data
    i, j = _slice(draw, data)
    if kind == "delete":
        return data[:i] + data[j:]
    if kind == "duplicate":
        return data[:j] + data[i:j] + data[j:]
    if kind == "swap":
        k, m = _slice(draw, data)
        if m <= i:
            return data[:k] + data[i:j] + data[m:i] + data[k:m] + data[j:]
        if k >= j:
            return data[:i] + data[k:m] + data[j:k] + data[i:j] + data[m:]
        return data
    if kind == "operators":
        ops = draw(st.lists(st.sampled_from(list(OPERATOR_BYTES)), min_size=1, max_size=4))
        return data[:i] + bytes(ops) + data[i:]
    if kind == "truncate":
        return data[:i]
    if kind == "bad-utf8":
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xf4\x90"]))
        return data[:i] + bad + data[i:]
    if kind == "nul":
        return data[:i] + b"\x00" + data[i:]
    if kind == "nest":
        opener = draw(st.sampled_from([b"(", b"{", b"[", b"%( 1 == 1 %? ", b"-", b"!", b"@define"]))
        return data[:i] + opener * draw(st.sampled_from([2, 50, 600, 5000])) + data[i:]
    words = [b"probe", b"function", b"global", b"foreach", b"in", b"limit", b"try", b"catch",
             b"%(", b"%?", b"%:", b"%)", b"%{", b"%}", b"$1", b"@1", b"$#", b"@define", b"@hist_log",
             b"@cast", b"->", b"<<<", b"=~", b"\"", b"/*", b"*/", b"//", b"#"]
    return data[:i] + b" " + draw(st.sampled_from(words)) + b" " + data[i:]


@st.composite
def mutated_script(draw) -> bytes:
    data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(mutation(data))
    return data


# ---- the property ------------------------------------------------------------------
def pass1(data: bytes, guru: bool, args: list[str]):
    text = frontend.decode(data, "fuzz.stp")
    ctx = PPContext(kernel_release="6.8.0-45-generic", arch="x86_64", guru=guru, args=args)
    return frontend.parse_source(Source("fuzz.stp", text), Preprocessor(ctx),
                                 frontend.parse_options(guru, None))


def check(data: bytes, guru: bool = False, args: list[str] = ("7", "x y")) -> None:
    try:
        tree = pass1(data, guru, list(args))
    except FtstapError as e:
        rendered = e.render()
        assert LOCATION.search(rendered), f"error without a location:\n{rendered}"
        return
    # Whatever parses can be printed by -p1, and the print parses back.
    out = printer.script(tree)
    again = pass1(out.encode(), guru, [])
    assert len(again.items) == len(tree.items)


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated_script(), guru=st.booleans())
def test_mutated_corpus_scripts_never_crash(data, guru):
    check(data, guru)


@settings(max_examples=max(EXAMPLES // 4, 100), deadline=None, database=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash(data):
    check(data)


@pytest.mark.parametrize("data", [
    b"", b"\x00", b"\xff\xfe", b"(" * 5000, b"probe begin { x = " + b"(" * 5000,
    b"probe begin " + b"{" * 5000, b"probe begin { x = " + b"-" * 5000 + b"1 }",
    b"probe begin { x = " + b"!" * 5000 + b"1 }",
    b"%( 1 == 1 %? " * 2000, b"@define a %( @a %) probe begin { @a }",
    b"probe a" + b"{b,c}" * 12 + b" { }", b"probe begin { \"" + b"a" * 100000,
    b"/*" + b"x" * 100000, b"%{" * 100, b"probe begin { $1 }",
], ids=lambda d: repr(d[:24]))
def test_nasty_inputs(data):
    check(data, guru=True, args=())


# ---- the real CLI ------------------------------------------------------------------
def run_cli(*argv, stdin=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "ftstap", *argv], input=stdin,
                          capture_output=True, timeout=timeout)


def one_error(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    errors = [ln for ln in text.splitlines() if re.match(r"^(\w+ )?error: ", ln)]
    assert len(errors) == 1, text
    return errors[0]


NASTY_FILES = [
    ("empty", b"", "input file is empty or has no useful content"),
    ("comment-only", b"# nothing\n", "input file is empty or has no useful content"),
    ("garbage", bytes(range(256)) * 16, "invalid UTF-8 byte 0x80"),
    ("ascii-garbage", bytes(range(1, 128)) * 16, "invalid character"),
    ("nul", b"probe begin { x = 1 }\x00\n", "invalid character '\\x00' in input"),
    ("deep-parens", b"probe begin { x = " + b"(" * 5000 + b"1" + b")" * 5000 + b" }",
     "expressions nested too deeply"),
    ("deep-blocks", b"probe begin " + b"{" * 5000 + b"}" * 5000, "statements nested too deeply"),
    ("string", b'probe begin {\n  x = "abc\n}\n', "unterminated string"),
    ("comment", b"probe begin { }\n/* never closed\n", "unterminated comment"),
    ("embedded", b"probe begin { }\n%{ never closed\n", "unterminated embedded code"),
    ("utf8", b'probe begin {\n  x = "\xc3\x28"\n}\n', "invalid UTF-8 byte 0xc3 in the script"),
]


@pytest.mark.parametrize("name, content, message", NASTY_FILES, ids=[c[0] for c in NASTY_FILES])
def test_cli_on_nasty_files(tmp_path, name, content, message):
    path = tmp_path / f"{name}.stp"
    path.write_bytes(content)
    r = run_cli("-p1", str(path))
    assert r.returncode == 1
    line = one_error(r.stderr)
    assert message in line
    assert r.stdout == b""
    if content:
        assert re.search(re.escape(str(path)) + r":\d+:\d+", r.stderr.decode("utf-8", "replace"))


def test_cli_reports_place_of_invalid_utf8(tmp_path):
    path = tmp_path / "u.stp"
    path.write_bytes(b'probe begin {\n  x = "a\xff"\n}\n')
    r = run_cli("-p1", str(path))
    assert r.returncode == 1
    assert f"{path}:2:9".encode() in r.stderr


def test_cli_missing_file(tmp_path):
    r = run_cli("-p1", str(tmp_path / "nope.stp"))
    assert r.returncode == 1
    assert "cannot read script file" in one_error(r.stderr)
    assert b"No such file or directory" in r.stderr


def test_cli_unreadable_file(tmp_path):
    # Tests run as root, so chmod 000 would still be readable: a directory is not.
    r = run_cli("-p1", str(tmp_path))
    assert r.returncode == 1
    assert "cannot read script file" in one_error(r.stderr)
    assert b"Is a directory" in r.stderr


def test_cli_ten_megabyte_script(tmp_path):
    path = tmp_path / "big.stp"
    filler = b"# " + b"x" * 97 + b"\n"
    lines = 10 * 1024 * 1024 // len(filler)
    path.write_bytes(filler * lines + b'global s = "' + b"y" * 100000 + b'"\nprobe begin { x = }\n')
    r = run_cli("-p1", str(path))
    assert r.returncode == 1
    assert "expected a value" in one_error(r.stderr)
    assert f"{path}:{lines + 2}:19".encode() in r.stderr


def test_cli_stdin_garbage():
    r = run_cli("-p1", "-", stdin=b"\x7fELF\x02\x01\x01\x00" + bytes(range(1, 200)))
    assert r.returncode == 1
    assert "invalid" in one_error(r.stderr)
    assert b"<input>:2:118" in r.stderr     # the first byte >= 0x80
