"""A QEMU guest with no Python: Debian's stock kernel booted with an
initramfs of our own holding only busybox, the static ftstap-run and
program images.  vmrun.sh's guests see the host's / (Python included); this
one sees nothing of the host: what it prints on its console is all it reports.

    out = boot_bare(runner, {"name.ftsimg": data}, shell_script, workdir)
    out = boot_bare(runner, images, shell_script, workdir, arch="aarch64")

x86_64 uses the kernel ../shared/tools/vmrun.sh downloads and caches and the
host's busybox; aarch64 (an emulated arm64 machine, qemu-system-aarch64 -M
virt) uses Debian's arm64 kernel and busybox-static:arm64, downloaded once
by fetch_arm64() (needs `dpkg --add-architecture arm64` and apt's lists).

runs shell_script (busybox sh) as the guest's init after mounting proc,
sysfs, devtmpfs and tracefs, with the images in /images and ftstap-run in
/bin, then powers off; returns the console output."""
from __future__ import annotations

import glob
import gzip
import io
import os
import shutil
import stat
import subprocess

VMDIR = os.environ.get("FTSTAP_VM_DIR", "/tmp/ftstap-vm")
ARM64_DIR = os.environ.get("FTSTAP_VM_ARM64_DIR", "/tmp/ftstap-vm-arm64")

INIT = """#!/bin/sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /tmp /run; mount -t tmpfs tmp /tmp; mount -t tmpfs run /run
echo "== bare: up, kernel $(uname -r)"
/bin/sh /test.sh 2>&1
echo "== bare: done"
echo 0 > /proc/sys/kernel/printk
poweroff -f
"""


def kernel(arch: str = "x86_64") -> str | None:
    found = sorted(glob.glob(os.path.join(VMDIR if arch == "x86_64" else ARM64_DIR, "kernel", "boot", "vmlinuz-*")))
    return found[0] if found else None


def fetch_arm64() -> tuple[str, str]:
    """(vmlinuz, busybox) for the arm64 guest: Debian's current arm64 kernel
    and busybox-static, downloaded and unpacked once into ARM64_DIR."""
    done = os.path.join(ARM64_DIR, ".done")
    if not os.path.exists(done):
        deb = os.path.join(ARM64_DIR, "deb")
        shutil.rmtree(ARM64_DIR, ignore_errors=True)
        os.makedirs(deb)
        os.makedirs(os.path.join(ARM64_DIR, "kernel"))
        dep = subprocess.run(["apt-cache", "depends", "linux-image-arm64:arm64"], capture_output=True, text=True)
        pkg = next((w.split()[1] for w in dep.stdout.splitlines() if w.strip().startswith("Depends: linux-image-")),
                   None)
        if pkg is None:
            raise FileNotFoundError("apt knows no linux-image-arm64:arm64 (dpkg --add-architecture arm64; apt-get update)")
        subprocess.run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", pkg, "busybox-static:arm64"],
                       cwd=deb, check=True, capture_output=True)
        for name in os.listdir(deb):
            tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", os.path.join(deb, name)], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", os.path.join(ARM64_DIR, "kernel"), "--wildcards", "./boot/vmlinuz-*", "./bin/busybox"],
                           stdin=tar.stdout, capture_output=True)
            tar.wait()
        shutil.rmtree(deb)
        open(done, "w").close()
    vmlinuz = kernel("aarch64")
    busybox = os.path.join(ARM64_DIR, "kernel", "bin", "busybox")
    if vmlinuz is None or not os.path.exists(busybox):
        raise FileNotFoundError(f"the arm64 kernel or busybox did not unpack into {ARM64_DIR}")
    return vmlinuz, busybox


def _cpio(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A newc cpio archive of {path: (data, mode)} (directories: data None)."""
    out = io.BytesIO()

    def entry(name: str, data: bytes, mode: int, ino: int) -> None:
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out.write(hdr.encode() + nb)
        out.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))
    for i, (name, (data, mode)) in enumerate(sorted(files.items()), 1):
        entry(name, data if data is not None else b"", mode, i)
    entry("TRAILER!!!", b"", 0, 0)
    return out.getvalue()


def arm64_sleep() -> tuple[str, dict[str, tuple[bytes, int]]]:
    """(sysroot, guest files): Debian's arm64 /usr/bin/sleep with the C
    library it loads (coreutils:arm64, libc6:arm64), downloaded once; the
    sysroot is for -r --sysroot, the files for boot_bare's guest."""
    root = os.path.join(ARM64_DIR, "sysroot")
    done = os.path.join(root, ".done")
    if not os.path.exists(done):
        deb = os.path.join(ARM64_DIR, "deb-sleep")
        shutil.rmtree(deb, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(deb)
        subprocess.run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", "coreutils:arm64",
                        "libc6:arm64"], cwd=deb, check=True, capture_output=True)
        unpacked = os.path.join(deb, "x")
        for name in os.listdir(deb):
            if name.endswith(".deb"):
                subprocess.run(["dpkg-deb", "-x", os.path.join(deb, name), unpacked], check=True)
        for src, dst in (("bin/sleep", "usr/bin/sleep"),
                         ("lib/aarch64-linux-gnu/libc.so.6", "lib/aarch64-linux-gnu/libc.so.6"),
                         ("lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", "lib/ld-linux-aarch64.so.1")):
            os.makedirs(os.path.dirname(os.path.join(root, dst)), exist_ok=True)
            shutil.copy(os.path.join(unpacked, src), os.path.join(root, dst))
        shutil.rmtree(deb)
        open(done, "w").close()
    files = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            if n != ".done":
                full = os.path.join(dirpath, n)
                with open(full, "rb") as f:
                    files[os.path.relpath(full, root)] = (f.read(), stat.S_IFREG | 0o755)
    return root, files


def boot_bare(runner: str, images: dict[str, bytes], script: str, workdir: str, timeout: float = 600,
              arch: str = "x86_64", files: dict[str, tuple[bytes, int]] | None = None) -> str:
    """files: more of the guest's files, {relative path: (data, mode)}
    (a program the test traces, with its libraries)."""
    if arch == "x86_64":
        busybox, vmlinuz, qemu = shutil.which("busybox"), kernel(), "qemu-system-x86_64"
        machine = ["-accel", "tcg,thread=multi", "-cpu", "max"]
        console = "console=ttyS0 tsc=reliable"
    else:
        (vmlinuz, busybox), qemu = fetch_arm64(), "qemu-system-aarch64"
        machine = ["-M", "virt", "-accel", "tcg,thread=multi", "-cpu", "cortex-a72"]
        console = "console=ttyAMA0"
    if not busybox or not vmlinuz or not shutil.which(qemu):
        raise FileNotFoundError(f"busybox, {qemu} and the guest kernel are needed")
    extra = files
    d, x, f = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o755, stat.S_IFREG | 0o644
    files = {n: (None, d) for n in ("bin", "dev", "proc", "sys", "images", "tmp", "run")}
    with open(busybox, "rb") as b:
        files["bin/busybox"] = (b.read(), x)
    with open(runner, "rb") as r:
        files["bin/ftstap-run"] = (r.read(), x)
    files["bin/sh"] = (b"busybox", stat.S_IFLNK | 0o777)      # init's #! needs it before --install
    files["init"] = (INIT.encode(), x)
    files["test.sh"] = (script.encode(), f)
    for name, data in images.items():
        files[f"images/{name}"] = (data, f)
    for path, (data, mode) in (extra or {}).items():
        parts = path.split("/")
        for i in range(1, len(parts)):
            files.setdefault("/".join(parts[:i]), (None, d))
        files[path] = (data, mode)
    initrd = os.path.join(workdir, "bare.cpio.gz")
    with open(initrd, "wb") as out:
        out.write(gzip.compress(_cpio(files), 1))
    r = subprocess.run([qemu, *machine, "-m", "512", "-smp", "2",
                        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                        "-serial", "stdio", "-kernel", vmlinuz, "-initrd", initrd,
                        "-append", f"{console} quiet loglevel=1 panic=-1 nokaslr mitigations=off"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return r.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
