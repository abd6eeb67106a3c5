"""-p1 output parses back to the same AST, for every script in SystemTap's
testsuite corpus that ftstap parses (run from ../shared, never copied)."""
import glob
import os
import re

import pytest

from ftstap.errors import FtstapError
from ftstap.lang import frontend, printer
from ftstap.lang.preprocess import Preprocessor
from ftstap.lang.source import Source

CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "conformance", "stap-testsuite")


def corpus_scripts():
    paths = sorted(glob.glob(os.path.join(CORPUS, "*", "*.stp")) +
                   glob.glob(os.path.join(CORPUS, "systemtap.bpf", "bpf_tests", "*.stp")))
    return [p for p in paths if "parseko" not in p and "semko" not in p]


def parse(text, name, guru):
    src = Source(name, text)
    pp = Preprocessor(frontend.default_context([], guru, None))
    return frontend.parse_source(src, pp, frontend.parse_options(guru, None))


def test_corpus_is_present():
    if os.environ.get("CI") or os.path.isdir(CORPUS):
        assert len(corpus_scripts()) > 300


@pytest.mark.parametrize("path", corpus_scripts(), ids=os.path.basename)
def test_reprint_parses_to_same_ast(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    first = text.split("\n", 1)[0]
    guru = bool(re.match(r"#!\s*stap\s.*-\w*g", first))
    try:
        tree = parse(text, path, guru)
    except FtstapError:
        pytest.skip("not a script ftstap parses without arguments")
    again = parse(printer.script(tree), "<reprint>", guru)
    assert again == tree
