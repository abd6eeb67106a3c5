"""The errors ftstap reports.  cli.py is the only place that turns them into
exit codes; everything else raises one of these, never prints and exits."""
from __future__ import annotations

from .record import frozen
from typing import Any


@frozen
class Span:
    """A fixed place in a file (1-based line and column) with its line's text.
    ftstap.lang.source.Loc offers the same attributes, computed lazily; either
    can be given to SourceError."""
    file: str
    line: int
    col: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class FtstapError(Exception):
    """Base of every error ftstap reports to the user (exit status 1)."""
    kind = "error"

    def render(self) -> str:
        return f"{self.kind}: {self}"


class UsageError(FtstapError):
    """Bad command-line arguments."""
    kind = "usage error"


class KernelError(FtstapError):
    """The running kernel lacks something the script needs, or refused it."""
    kind = "kernel error"


class SourceError(FtstapError):
    """An error in the script, with the place it was found.

    Renders like stap's diagnostics: the message, what was seen and where,
    the source line and a caret under the column."""

    def __init__(self, message: str, span: Any = None, hint: str | None = None,
                 kind: str = "parse error", saw: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.kind = kind
        self.saw = saw

    def render(self) -> str:
        lines = [f"{self.kind}: {self.message}"]
        if self.span is not None:
            where = f"at {self.span}"
            lines.append(f"        saw: {self.saw} {where}" if self.saw else f"         {where}")
            if self.span.text:
                src = self.span.text.expandtabs(1).rstrip("\n")
                lines.append(f"     source: {src}")
                lines.append(" " * (13 + max(self.span.col - 1, 0)) + "^")
            via = getattr(self.span, "via", None)
            while via is not None:
                lines.append(f"  in expansion at {via}")
                via = via.via
        if self.hint:
            lines.append(f"       hint: {self.hint}")
        return "\n".join(lines)


class SemanticError(SourceError):
    def __init__(self, message: str, span: Any = None, hint: str | None = None,
                 saw: str | None = None):
        super().__init__(message, span, hint, kind="semantic error", saw=saw)


class ErrorList(FtstapError):
    """Several errors found in one pass; rendered one after another."""

    def __init__(self, errors: list[FtstapError], what: str = "parse"):
        super().__init__(f"{len(errors)} {what} error(s)")
        self.errors = errors
        self.what = what

    def render(self) -> str:
        n = len(self.errors)
        body = "\n\n".join(e.render() for e in self.errors)
        return f"{body}\n\n{n} {self.what} error{'s' if n != 1 else ''}."


class PassFailed(FtstapError):
    """A pass that failed, as stap reports it: the error (if any), then the
    pass's own line ("Pass 3: translation failed.").  The driver raises it;
    cli.py prints it."""

    def __init__(self, cause: FtstapError | None, line: str):
        super().__init__(line)
        self.cause = cause
        self.line = line

    def render(self) -> str:
        return self.line if self.cause is None else f"{self.cause.render()}\n{self.line}"
