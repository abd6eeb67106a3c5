"""Per-task events: handlers that only act for the -c command (issue 6).

A handler shaped `PROLOGUE; if (pid() == target() ...) STMT` (see
compile/shape.py; the test may be one operand of a top-level `&&`) does
nothing for any other process.  Its event is marked task-scoped
(EventSpec.task); when every event of a session is, and the session runs
a -c command, the runtime opens the events on that command's process
(per CPU, inherited by the threads and children it creates) instead of
system-wide, so other processes' events are never recorded.  The test
stays in the bytecode (children also fire inherited events).

Not for -x PID: a per-task event opened on a running process misses the
threads it already has."""
from __future__ import annotations

from ..lang import ast as A
from .kfilter import pushdown_enabled
from .shape import handler_shape


def _is_call(e, name: str) -> bool:
    return isinstance(e, A.Call) and e.name == name and not e.args


def _target_test(e) -> bool:
    if isinstance(e, A.Binary) and e.op == "&&":
        return _target_test(e.left) or _target_test(e.right)
    return (isinstance(e, A.Binary) and e.op == "=="
            and ((_is_call(e.left, "pid") and _is_call(e.right, "target"))
                 or (_is_call(e.left, "target") and _is_call(e.right, "pid"))))


def task_scoped(inst) -> bool:
    if not inst.source.target.per_task or not pushdown_enabled():
        return False
    shape = handler_shape(inst)
    return (shape is not None and isinstance(shape.last, A.If) and shape.last.other is None
            and _target_test(shape.last.cond))
