"""perf.sw.NAME / perf.hw.NAME / perf.type(T).config(C)[.sample(N)|.hz(N)]:
perf_event sampling events."""
from __future__ import annotations

from ..errors import SemanticError
from .base import EventSource, Provider, Unservable, arg_of
from .grammar import Grammar
from .targets import PerfTarget

SOFTWARE = {"cpu_clock": 0, "task_clock": 1, "page_faults": 2, "context_switches": 3,
            "cpu_migrations": 4, "page_faults_min": 5, "page_faults_maj": 6,
            "alignment_faults": 7, "emulation_faults": 8}
HARDWARE = {"cpu_cycles": 0, "instructions": 1, "cache_references": 2, "cache_misses": 3,
            "branch_instructions": 4, "branch_misses": 5, "bus_cycles": 6}


_BASES = tuple(f"perf.sw.{n}" for n in SOFTWARE) + tuple(f"perf.hw.{n}" for n in HARDWARE) + \
    ("perf.type(number).config(number)",)
_BOTH = "a perf probe takes .sample(N) or .hz(N), not both"


class PerfProvider(Provider):
    grammar = Grammar(tuple(b + "[.sample(number)|.hz(number)]" for b in _BASES),
                      refused={b + tail: _BOTH for b in _BASES
                               for tail in (".sample(number).hz(number)", ".hz(number).sample(number)")})

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None or (m.wrong and not m.refused):
            return None
        if "type" in m:
            typ, config = m["type"], m["config"]
        else:
            hw = "hw" in m
            typ, config = (0, HARDWARE[comps[2].name]) if hw else (1, SOFTWARE[comps[2].name])
            if hw and features.hardware_pmu is None:
                raise Unservable("this machine has no hardware PMU (perf.hw.* needs one)")
        if m.refused:
            raise SemanticError(m.refused, comps[-1].loc)
        pp = ".".join(c.name + (f"({arg_of(c)})" if c.arg is not None else "") for c in comps)
        if "hz" in m:
            return [EventSource(PerfTarget(typ, config, sample_freq=m["hz"]), pp)]
        return [EventSource(PerfTarget(typ, config, sample_period=m.get("sample", 1_000_000)), pp)]
