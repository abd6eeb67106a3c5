"""`-v`: one line per pass with what it made and what it cost, as stap
prints them ("Pass 2: analyzed script: 1 probe, 0 functions, 0 embeds,
1 global using 123456virt/23456res/3456shr/45678data kb, in 10usr/0sys/12real ms.").

The memory figures are the process's, from /proc/self/statm (pages);
the times are this pass's own: CPU (user, system) from getrusage, real
from the monotonic clock."""
from __future__ import annotations

import os
import resource
import sys
import time


def _memory() -> str:
    try:
        with open("/proc/self/statm") as f:
            size, res, shared, _text, _lib, data = (int(x) for x in f.read().split()[:6])
    except (OSError, ValueError):
        return ""
    kb = os.sysconf("SC_PAGE_SIZE") // 1024
    return f"using {size * kb}virt/{res * kb}res/{shared * kb}shr/{data * kb}data kb, "


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "es" if word.endswith("h") else "s")


class PassClock:
    """Times one pass at a time; say() prints its line on stderr when -v."""

    def __init__(self, verbose: int):
        self.verbose = verbose
        self.restart()

    def restart(self) -> None:
        r = resource.getrusage(resource.RUSAGE_SELF)
        self.usr, self.sys, self.real = r.ru_utime, r.ru_stime, time.monotonic()

    def cost(self) -> str:
        r = resource.getrusage(resource.RUSAGE_SELF)
        ms = lambda s: int(round(s * 1000))
        return (f"in {ms(r.ru_utime - self.usr)}usr/{ms(r.ru_stime - self.sys)}sys/"
                f"{ms(time.monotonic() - self.real)}real ms.")

    def say(self, what: str, memory: bool = True) -> None:
        """'Pass N: WHAT using ... kb, in ...ms.', then time the next pass."""
        if self.verbose:
            print(f"{what} {_memory() if memory else ''}{self.cost()}", file=sys.stderr)
        self.restart()

    def note(self, line: str) -> None:
        if self.verbose:
            print(line, file=sys.stderr)
