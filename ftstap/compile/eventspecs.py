"""Pass 3's kernel events: the EventSpec (image/events.py) of each event a
probe fires on, made from the EventSource pass 2 bound it to and what
pass 3 planned for it (fetch-args, eprobe or not, filters, needs).

The specs go into the image and into the Translation that pass 3 returns;
pass 2's sources are never written to."""
from __future__ import annotations

from ..image.events import EventSpec


def spec_from_source(source, plan=None, callchain: bool = False) -> EventSpec:
    """The EventSpec of a pass-2 EventSource (ftstap.probes.base), made by
    its target (probes/targets.py); the fetch-args pass 3 planned (plan, a
    compile.fetch.FetchPlan) become args and the offsets the handlers assume."""
    args, fields = [], {}
    if plan is not None:
        args = [a.arg for a in plan.args]
        fields = {a.name: a.offset for a in plan.args}
    return source.target.spec(source.pp, fetched=plan is not None, callchain=callchain, args=args,
                              fields=fields)
