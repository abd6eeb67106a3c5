"""perf.sw.NAME / perf.hw.NAME / perf.type(T).config(C)[.sample(N)|.hz(N)]:
perf_event sampling events."""
from __future__ import annotations

from ..errors import SemanticError
from .base import EventSource, Provider, Unservable, arg_of
from .targets import PerfTarget

SOFTWARE = {"cpu_clock": 0, "task_clock": 1, "page_faults": 2, "context_switches": 3,
            "cpu_migrations": 4, "page_faults_min": 5, "page_faults_maj": 6,
            "alignment_faults": 7, "emulation_faults": 8}
HARDWARE = {"cpu_cycles": 0, "instructions": 1, "cache_references": 2, "cache_misses": 3,
            "branch_instructions": 4, "branch_misses": 5, "bus_cycles": 6}


class PerfProvider(Provider):
    families = ("perf",)
    patterns = tuple(f"perf.sw.{n}[.sample(number)|.hz(number)]" for n in SOFTWARE) + \
        tuple(f"perf.hw.{n}[.sample(number)|.hz(number)]" for n in HARDWARE) + \
        ("perf.type(number).config(number)[.sample(number)|.hz(number)]",)

    def resolve(self, comps, features):
        n = [c.name for c in comps]
        if n[0] != "perf" or len(n) < 2:
            return None
        rest = comps[2:]
        if n[1] in ("sw", "hw") and len(n) >= 3:
            table = SOFTWARE if n[1] == "sw" else HARDWARE
            if n[2] not in table:
                return None
            typ, config, rest = (1 if n[1] == "sw" else 0), table[n[2]], comps[3:]
            if n[1] == "hw" and features.hardware_pmu is None:
                raise Unservable("this machine has no hardware PMU (perf.hw.* needs one)")
        elif n[1] == "type" and len(n) >= 3 and n[2] == "config":
            typ, config, rest = arg_of(comps[1]), arg_of(comps[2]), comps[3:]
            if not isinstance(typ, int) or not isinstance(config, int):
                return None
        else:
            return None
        detail = {"sample_period": 1_000_000}
        pp = ".".join(c.name + (f"({arg_of(c)})" if c.arg is not None else "") for c in comps)
        if len(rest) > 1 or (rest and rest[0].name not in ("sample", "hz")):
            if {c.name for c in rest} == {"sample", "hz"}:
                raise SemanticError("a perf probe takes .sample(N) or .hz(N), not both", rest[1].loc)
            return None
        for c in rest:
            if c.name == "sample" and isinstance(arg_of(c), int):
                detail["sample_period"] = arg_of(c)
            elif c.name == "hz" and isinstance(arg_of(c), int):
                detail.pop("sample_period")
                detail["sample_freq"] = arg_of(c)
            else:
                return None
        return [EventSource(PerfTarget(typ, config, **detail), pp)]
