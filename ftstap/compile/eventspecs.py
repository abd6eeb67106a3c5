"""Pass 3's kernel events: the EventSpec (image/events.py) of each event a
probe fires on, made from the EventSource pass 2 bound it to and what
pass 3 planned for it (fetch-args, eprobe or not, filters, needs).

The specs go into the image and into the Translation that pass 3 returns;
pass 2's sources are never written to."""
from __future__ import annotations

from ..errors import FtstapError
from ..image.events import EventSpec


def spec_from_source(source, plan=None, callchain: bool = False) -> EventSpec:
    """The EventSpec of a pass-2 EventSource (ftstap.probes.base); the
    fetch-args pass 3 planned (plan, a compile.fetch.FetchPlan) become args
    and the offsets the handlers assume."""
    d = source.detail
    args, fields = [], {}
    if plan is not None:
        args = [a.arg for a in plan.args]
        fields = {a.name: a.offset for a in plan.args}
    common = dict(pp=source.pp, is_return=bool(source.is_return), callchain=callchain, args=args, fields=fields)
    if source.kind == "tracepoint":
        # an eprobe when pass 3 planned fetch-args on it (compile/kread.py)
        return EventSpec("eprobe" if plan is not None else "tracepoint", system=d["system"],
                         event=d["event"], **common)
    if source.kind == "uprobe":
        return EventSpec("uprobe", path=d["path"], offset=int(d["offset"]), symbol=d.get("symbol", ""), **common)
    if source.kind == "kprobe":
        return EventSpec("kprobe", symbol=d["symbol"], offset=int(d.get("offset", 0)),
                         maxactive=int(d.get("maxactive", 0)), **common)
    if source.kind == "perf":
        return EventSpec("perf", type=int(d["type"]), config=int(d["config"]),
                         sample_period=int(d.get("sample_period", 0)), sample_freq=int(d.get("sample_freq", 0)),
                         **common)
    raise FtstapError(f"{source.pp}: {source.kind} probes are not kernel events")
