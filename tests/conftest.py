"""Shared fixtures.

`stp` parses small scripts the way pass 1 does (Source -> Preprocessor ->
frontend.parse_source) and digs out the interesting node, so the pass-1
tests can assert exact AST values in one line."""
import os

import pytest

from ftstap.errors import ErrorList, FtstapError, SourceError
from ftstap.lang import ast as A
from ftstap.lang import frontend
from ftstap.lang.preprocess import PPContext, Preprocessor
from ftstap.lang.source import Source

CORPUS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                       "conformance", "stap-testsuite"))


class Stp:
    def parse(self, text: str, *, guru: bool = False, args=(), privileged: bool = False,
              compatible: str | None = None, ctx: PPContext | None = None,
              macros=None, name: str = "t.stp") -> A.Script:
        if ctx is None:
            ctx = PPContext(kernel_release="6.8.0-45-generic", arch="x86_64", guru=guru,
                            args=list(args), systemtap_v=compatible or "5.3")
        pp = Preprocessor(ctx, macros)
        opts = frontend.parse_options(guru, compatible, privileged=privileged)
        return frontend.parse_source(Source(name, text), pp, opts)

    def body(self, text: str, **kw) -> tuple:
        """The statements of `probe begin { TEXT }`."""
        script = self.parse("probe begin {\n" + text + "\n}", **kw)
        (probe,) = script.items
        return probe.body.body

    def stmt(self, text: str, **kw) -> A.Stmt:
        (s,) = self.body(text, **kw)
        return s

    def expr(self, text: str, **kw) -> A.Expr:
        s = self.stmt(text, **kw)
        assert isinstance(s, A.ExprStmt), s
        return s.expr

    def errors(self, text: str, **kw) -> list[FtstapError]:
        with pytest.raises(FtstapError) as info:
            self.parse(text, **kw)
        e = info.value
        return list(e.errors) if isinstance(e, ErrorList) else [e]

    def error(self, text: str, **kw) -> SourceError:
        """The first error pass 1 reports for TEXT (it must report one)."""
        first = self.errors(text, **kw)[0]
        assert isinstance(first, SourceError), first
        return first

    @staticmethod
    def at(err: SourceError) -> tuple[int, int]:
        """(line, column) of an error."""
        return err.span.line, err.span.col


@pytest.fixture
def stp() -> Stp:
    return Stp()


@pytest.fixture
def corpus_dir() -> str:
    """SystemTap's testsuite, read in place (never copied into the repo)."""
    if not os.path.isdir(CORPUS):
        if os.environ.get("CI"):
            pytest.fail(f"the stap-testsuite corpus is missing at {CORPUS}")
        pytest.skip("the stap-testsuite corpus is not present")
    return CORPUS
