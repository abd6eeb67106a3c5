"""insmod for the QEMU tier's module tests: the guest kernel's .ko files
under a directory (the kernel package's tree), loaded with busybox's insmod
(the guest has no modprobe nor modules.dep) in the order given, skipping
those already loaded."""
import glob
import os
import subprocess


def insmod(directory: str, names: tuple) -> None:
    for m in names:
        if os.path.isdir(f"/sys/module/{m.replace('-', '_')}"):
            continue
        path = next(iter(glob.glob(os.path.join(directory, "**", m + ".ko"), recursive=True)), None)
        assert path, f"{m}.ko is not under {directory}"
        subprocess.run(["busybox", "insmod", path], check=True)
