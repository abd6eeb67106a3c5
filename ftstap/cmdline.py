"""Command-line parsing the way stap does it (GNU getopt_long), and the help
text.

stap parses its flags with getopt_long: short flags combine (`-gp1` is
`-g -p 1`), a short flag's value may be attached (`-p1`, `-DNAME=V`) or
the next word, a long option's value follows `=` or is the next word,
options may come after the script and its arguments, and `--` ends them.
This module does only that (no framework: importing one cost ftstap more
start-up time than all of pass 1).
"""
from __future__ import annotations

from .record import frozen
from typing import Callable


class CommandLineError(Exception):
    """A bad command line; the message is what the user sees after 'ftstap: '."""


@frozen
class Opt:
    names: tuple[str, ...]           # "-e", "--compatible", ...
    dest: str
    help: str
    metavar: str | None = None       # None: a flag that takes no value
    kind: str = "str"                # str, int, float, count, flag, multi
    optional_value: str | None = None  # long option whose value is optional (--x[=V]); this when absent
    check: Callable[[str], str] | None = None   # raises CommandLineError with a reason

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None and self.optional_value is None


# What a flag that was not given leaves in its dest (multi: [], the others: None).
_ABSENT = {"count": 0, "flag": False}


def _convert(opt: Opt, name: str, value: str):
    if opt.check is not None:
        try:
            opt.check(value)
        except CommandLineError as e:
            raise CommandLineError(f"Invalid value for '{name}': {e}") from None
    if opt.kind == "int":
        try:
            return int(value, 10)
        except ValueError:
            raise CommandLineError(f"Invalid value for '{name}': '{value}' is not a valid integer.") from None
    if opt.kind == "float":
        try:
            return float(value)
        except ValueError:
            raise CommandLineError(f"Invalid value for '{name}': '{value}' is not a valid float.") from None
    return value


def _store(values: dict, opt: Opt, name: str, value: str | None) -> None:
    if opt.kind == "count":
        values[opt.dest] = values.get(opt.dest, 0) + 1
    elif opt.kind == "flag":
        values[opt.dest] = True
    elif opt.kind == "multi":
        values.setdefault(opt.dest, []).append(_convert(opt, name, value))
    else:
        values[opt.dest] = _convert(opt, name, value)


def parse(options: list[Opt], argv: list[str]) -> tuple[dict, list[str]]:
    """(values by dest, the words that are not options), GNU getopt_long style."""
    by_name = {n: o for o in options for n in o.names}
    values: dict = {}
    words: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            words.extend(argv[i:])
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            opt = by_name.get(name)
            if opt is None:
                raise CommandLineError(f"No such option '{name}'.")
            if opt.metavar is None:
                if eq:
                    raise CommandLineError(f"Option '{name}' does not take a value.")
                value = None
            elif not eq:
                if opt.optional_value is not None:
                    value = opt.optional_value
                elif i < len(argv):
                    value, i = argv[i], i + 1
                else:
                    raise CommandLineError(f"Option '{name}' requires an argument.")
            _store(values, opt, name, value)
        elif arg.startswith("-") and arg != "-":
            j = 1
            while j < len(arg):
                name = "-" + arg[j]
                opt = by_name.get(name)
                if opt is None:
                    raise CommandLineError(f"No such option '{name}'.")
                j += 1
                if opt.takes_value:
                    if j < len(arg):
                        value = arg[j:]
                    elif i < len(argv):
                        value, i = argv[i], i + 1
                    else:
                        raise CommandLineError(f"Option '{name}' requires an argument.")
                    _store(values, opt, name, value)
                    break
                _store(values, opt, name, None)
        else:
            words.append(arg)
    for o in options:
        values.setdefault(o.dest, [] if o.kind == "multi" else _ABSENT.get(o.kind))
    return values, words


def help_text(prog: str, usage: str, description: str, options: list[Opt], epilog: str,
              width: int = 100) -> str:
    import textwrap
    rows = []
    for o in options:
        label = ", ".join(o.names)
        if o.metavar is not None:
            label += f" [{o.metavar}]" if o.optional_value is not None else f" {o.metavar}"
        rows.append((label, o.help))
    col = min(max(len(label) for label, _ in rows) + 4, 31)
    out = [f"Usage: {prog} {usage}", "", textwrap.fill(description, width - 2, initial_indent="  ",
                                                       subsequent_indent="  "), "", "Options:"]
    for label, text in rows:
        lines = textwrap.wrap(text, width - col - 2) or [""]
        if len(label) + 4 > col:
            out.append(f"  {label}")
            out.extend(" " * col + t for t in lines)
        else:
            out.append(f"  {label.ljust(col - 2)}{lines[0]}")
            out.extend(" " * col + t for t in lines[1:])
    return "\n".join(out) + "\n" + epilog
