"""timer.ms/msec/s/sec/us/usec/ns/nsec/hz/jiffies(N)[.randomize(M)] run from a
timerfd in the event loop; timer.profile[.tick] samples on cpu-clock."""
from __future__ import annotations

from ..errors import SemanticError
from .base import EventSource, Provider, arg_of
from .grammar import Grammar
from .targets import PerfTarget, TimerTarget

UNIT_NS = {"ns": 1, "nsec": 1, "us": 1_000, "usec": 1_000, "ms": 1_000_000, "msec": 1_000_000,
           "s": 1_000_000_000, "sec": 1_000_000_000}


MAX_NS = (1 << 63) - 1   # an interval the program image (and timerfd) can hold


def _signed(n):
    """A probe point's literal number as stap reads it: a 64-bit signed value."""
    return n - (1 << 64) if isinstance(n, int) and n >= 1 << 63 else n


def _kernel_hz(features, loc) -> int:
    """CONFIG_HZ of the kernel the script runs on: timer.jiffies and
    timer.profile follow it, as in stap."""
    if features is None:
        from ..kernel.features import KernelFeatures
        features = KernelFeatures.current()
    hz = features.hz
    if not hz:
        raise SemanticError("cannot tell this kernel's HZ (no kernel config in /proc/config.gz or "
                            "/boot/config-RELEASE, and /proc/timer_list is not readable)", loc)
    return hz


def _profile_freq(comp) -> EventSource:
    """timer.profile.freq.hz(N): cpu-clock sampled N times a second on every
    CPU (stap's perf-based profile timer; the kernel caps N at
    kernel.perf_event_max_sample_rate)."""
    n = _signed(arg_of(comp))
    if not isinstance(n, int) or n <= 0:
        raise SemanticError(f"timer.profile.freq.hz needs a positive number, not {n}", comp.loc)
    if n > 1_000_000_000:
        raise SemanticError(f"timer.profile.freq.hz({n}) is out of range: at most one sample a "
                            "nanosecond", comp.loc)
    return EventSource(PerfTarget(1, 0, sample_freq=n, per_cpu=True), f"timer.profile.freq.hz({n})")


class TimerProvider(Provider):
    grammar = Grammar(tuple(f"timer.{u}(number)[.randomize(number)]"
                            for u in ("ms", "msec", "s", "sec", "us", "usec", "ns", "nsec", "jiffies")) +
                      ("timer.hz(number)", "timer.profile", "timer.profile.tick",
                       "timer.profile.freq.hz(number)"),
                      refused={"timer.hz(number).randomize(number)": "timer.hz cannot be randomized"})

    def resolve(self, comps, features):
        # a missing or mistyped number is refused below, saying what it needs
        m = self.grammar.match(comps)
        if m is None:
            return None
        unit = comps[1]
        if "profile" in m:
            if "freq" in m:
                return [_profile_freq(comps[3])]
            pp = "timer.profile" + (".tick" if "tick" in m else "")
            return [EventSource(PerfTarget(1, 0, sample_freq=_kernel_hz(features, unit.loc), per_cpu=True), pp)]
        n = _signed(arg_of(unit))
        if not isinstance(n, int) or n <= 0:
            raise SemanticError(f"timer.{unit.name} needs a positive number, not {n}", unit.loc)
        if unit.name == "hz":
            interval = 1_000_000_000 // n
        elif unit.name == "jiffies":
            interval = n * 1_000_000_000 // _kernel_hz(features, unit.loc)
        else:
            interval = n * UNIT_NS[unit.name]
        pp = f"timer.{unit.name}({n})"
        rand = 0
        if "randomize" in m:
            r = comps[2]
            spread = _signed(arg_of(r))
            if not isinstance(spread, int) or spread <= 0:
                raise SemanticError(f"randomize needs a positive number, not {spread}", r.loc)
            if m.refused:
                raise SemanticError(m.refused, r.loc)
            rand = spread * UNIT_NS[unit.name] if unit.name in UNIT_NS else \
                spread * 1_000_000_000 // _kernel_hz(features, unit.loc)
            pp += f".randomize({spread})"
        if interval + rand > MAX_NS:
            where = comps[2] if rand else unit
            raise SemanticError(f"{pp} is out of range: the interval and its randomization must be "
                                f"at most {MAX_NS} ns (about 292 years)", where.loc)
        return [EventSource(TimerTarget(interval, rand), pp)]

    def listing(self, features):
        return ["timer.ms(N)", "timer.s(N)", "timer.us(N)", "timer.ns(N)", "timer.hz(N)",
                "timer.jiffies(N)", "timer.profile", "timer.profile.freq.hz(N)"]
