"""What ftstap sessions have in the kernel: dynamic event definitions and
tracefs instances, for the live tests' teardown assertions."""
import os

FILES = ("kprobe_events", "uprobe_events", "dynamic_events")


def leftovers(root: str, pid: int | None = None) -> list[str]:
    """"FILE: definition" lines and "instances/NAME" of session pid's group
    (of every ftstap session when pid is None)."""
    group = f"ftstap_{pid}" if pid else "ftstap_"
    out = []
    for name in FILES:
        path = os.path.join(root, name)
        if os.path.exists(path):
            with open(path) as f:
                out += [f"{name}: {l.strip()}" for l in f if f":{group}" in l and (pid is None or f"{group}/" in l)]
    inst = os.path.join(root, "instances")
    if os.path.isdir(inst):
        out += [f"instances/{n}" for n in os.listdir(inst) if n == group or (pid is None and n.startswith(group))]
    return out
