"""A provider's probe-point grammar, declared once as pattern strings and
parsed into the matcher that binds a probe point's components.

    kernel.function(string)[.call|.return]
    process(string|number).mark(string)
    syscall.NAME[.return]  (syscalls:sys_enter_NAME/sys_exit_NAME)

A component is a name, with `(TYPE|TYPE)` when it takes an argument
(string or number); an UPPERCASE name binds any component name without an
argument (wildcards included); `[.a|.b(number)]` is at most one of its
alternatives, each one or more components.  Text after two spaces is a
note for --dump-probe-types.

match() returns a Match binding each component's name to its argument
(True when it has none; a placeholder to the name it matched), or None.
A component whose argument is missing or of the wrong type still matches,
listed in Match.wrong, so a provider can say what it expected; `refused`
patterns are shapes a provider knows only to refuse, with the message."""
from __future__ import annotations

import fnmatch
from typing import Any

from ..record import mutable

_TYPES = {"string": str, "number": int}


@mutable(eq=False)
class Match:
    pattern: str                       # the declared pattern that matched
    args: dict                         # component name -> argument (True: none)
    comps: tuple                       # the probe point's components, in order
    wrong: tuple = ()                  # components whose argument is missing or mistyped
    refused: str | None = None         # the message of a refused shape

    def __contains__(self, name: str) -> bool:
        return name in self.args

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    def comp(self, name: str):
        """The component bound to name (for its location)."""
        return next(c for c in self.comps if c.name == name)


def _split(text: str, sep: str) -> list[str]:
    """text split at sep outside brackets and parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def _element(text: str) -> tuple:
    """(name, argument types or None)."""
    name, _, types = text.partition("(")
    if not types:
        return name, None
    return name, tuple(_TYPES[t] for t in types.rstrip(")").split("|"))


def expand(pattern: str) -> list[tuple]:
    """Every component sequence the pattern allows, each a tuple of elements."""
    seqs: list[tuple] = [()]
    text = pattern.split("  ", 1)[0]
    while text:
        if text[0] == "[":
            depth, end = 0, 0
            for end, ch in enumerate(text):
                depth += (ch == "[") - (ch == "]")
                if depth == 0:
                    break
            alts = [()] + [tuple(_element(e) for e in _split(alt, ".")[1:]) for alt in _split(text[1:end], "|")]
            seqs = [s + a for s in seqs for a in alts]
            text = text[end + 1:]
            continue
        if text[0] == ".":
            text = text[1:]
        end = len(text)
        for stop in "([.":
            if stop in text:
                end = min(end, text.index(stop))
        if text[end:end + 1] == "(":
            end = text.index(")", end) + 1
        seqs = [s + (_element(text[:end]),) for s in seqs]
        text = text[end:]
    return seqs


class Grammar:
    """The patterns of one provider, expanded on first use."""

    def __init__(self, patterns: tuple[str, ...], refused: dict[str, str] | None = None):
        self.patterns = tuple(patterns)
        self.refused = dict(refused or {})
        self._seqs: list | None = None
        # the first components the patterns start with (the binder asks per probe point)
        self.families = tuple(dict.fromkeys(p.split(".")[0].split("(")[0] for p in self.patterns))

    def _expanded(self) -> list:
        if self._seqs is None:
            self._seqs = [(p, seq, None) for p in self.patterns for seq in expand(p)] + \
                         [(p, seq, msg) for p, msg in self.refused.items() for seq in expand(p)]
        return self._seqs

    def concrete(self, comps) -> list[tuple]:
        """comps with each wildcard in a fixed name (`kerne*.funct*`,
        `.return.maxact*(10)`) replaced by the names it matches, one tuple
        per probe point the patterns allow; [comps] when there is none
        (NAME placeholders keep their wildcards: the provider expands them)."""
        if not any(_wild(c.name) for c in comps):
            return [tuple(comps)]
        out: list[tuple] = []
        for _, seq, _ in self._expanded():
            if len(seq) != len(comps):
                continue
            names = []
            for (name, _), c in zip(seq, comps):
                if name.isupper() or c.name == name:
                    names.append(c.name)
                elif _wild(c.name) and fnmatch.fnmatchcase(name, c.name.replace("**", "*")):
                    names.append(name)
                else:
                    break
            else:
                cand = tuple(c if c.name == n else type(c)(n, c.arg, loc=c.loc) for n, c in zip(names, comps))
                if not any(_same(cand, o) for o in out):
                    out.append(cand)
        return out

    def match(self, comps) -> Match | None:
        """The best match of comps: one with every argument right, else the
        first with some wrong."""
        loose = None
        for pattern, seq, refused in self._expanded():
            if len(seq) != len(comps):
                continue
            args, wrong = {}, []
            for (name, types), c in zip(seq, comps):
                if name.isupper():
                    if c.arg is not None:
                        break
                    args[name] = c.name
                    continue
                if c.name != name or (types is None and c.arg is not None):
                    break
                if types is None:
                    args[name] = True
                    continue
                value = None if c.arg is None else c.arg.value
                args[name] = value
                if value is None or type(value) not in types:
                    wrong.append(c)
            else:
                m = Match(pattern, args, tuple(comps), tuple(wrong), refused)
                if not wrong:
                    return m
                loose = loose or m
        return loose


def _wild(name: str) -> bool:
    return "*" in name or "?" in name


def _same(a: tuple, b: tuple) -> bool:
    return [c.name for c in a] == [c.name for c in b]
