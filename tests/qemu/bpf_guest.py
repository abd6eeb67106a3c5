"""SystemTap's bpf suite on a target with no Python: the cases are compiled
here with `ftstap -r GUEST.kinfo -p4` (the description the guest's own
ftstap-run --describe wrote) and run in a bare guest (tests/qemu/bare.py)
by the static ftstap-run, as bpf.exp runs them (`-x 12345 -T 20`).  The
guest's console is the only channel back; the cases are scored here by the
conformance runner's own bpf_ok (../shared/conformance/run, loaded as a
module: its cases and rules are never copied into this repository).

    python3 tests/qemu/bpf_guest.py [--arch x86_64|aarch64] [-v]

prints one line per case and "N passed, N failed"; run_suite() is what
tests/qemu/test_qemu_bare_arches.py calls."""
from __future__ import annotations

import argparse
import base64
import importlib.machinery
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bare import arm64_sleep, boot_bare             # noqa: E402
from qemutier import ROOT                           # noqa: E402

CONFORMANCE = os.path.normpath(os.path.join(ROOT, "..", "shared", "conformance"))
CASES = os.path.join(CONFORMANCE, "stap-testsuite", "systemtap.bpf", "bpf_tests")
RUNNER_TARGET = {"x86_64": "ftstap-run-static", "aarch64": "ftstap-run-static-aarch64"}
# uprobes.stp and user_string.stp probe /usr/bin/sleep while it runs: the
# x86_64 guest gets this machine's sleep and the libraries it loads, the
# arm64 one Debian's arm64 sleep (bare.arm64_sleep)
SLEEP_FILES = ("/usr/bin/sleep",)


def scorer():
    """The conformance runner as a module (bpf_ok, BPF_NEEDS_SLEEP)."""
    path = os.path.join(CONFORMANCE, "run")
    loader = importlib.machinery.SourceFileLoader("ftstap_conformance_run", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def build_runner(arch: str, workdir: str) -> str:
    target = RUNNER_TARGET[arch]
    r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), f"BIN={workdir}", target],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"make {target} failed:\n{r.stderr}")
    return os.path.join(workdir, target)


def sections(out: str, tag: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(rf"^== {tag} (\S+)\n(.*?)^== end\n", out, re.M | re.S)}


def describe(runner: str, arch: str, workdir: str) -> str:
    """Boot the guest once; its `ftstap-run --describe | gzip`, saved here (-r reads it gzipped)."""
    out = boot_bare(runner, {}, "echo '== kinfo x'; ftstap-run --describe | gzip -1 | base64 | tr -d '\\n'; "
                                "echo; echo '== end'\n", workdir, arch=arch)
    text = sections(out, "kinfo").get("x", "").strip()
    if not text:
        raise RuntimeError("the guest wrote no description:\n" + out[-3000:])
    path = os.path.join(workdir, f"{arch}.kinfo.gz")
    with open(path, "wb") as f:
        f.write(base64.b64decode(text))
    return path


def _dynamic_deps(path: str) -> list[str]:
    r = subprocess.run(["ldd", path], capture_output=True, text=True)
    return re.findall(r"(/\S+) \(0x", r.stdout)


def host_files(paths) -> dict[str, tuple[bytes, int]]:
    """{guest path: (data, mode)}: programs of this machine and the libraries they load."""
    out = {}
    for p in paths:
        for f in [p] + _dynamic_deps(p):
            real = os.path.realpath(f)
            with open(real, "rb") as fh:
                out[f.lstrip("/")] = (fh.read(), 0o100755)
    return out


def compile_cases(kinfo: str, names: list[str], workdir: str, sysroot: str | None = None
                  ) -> tuple[dict[str, bytes], dict[str, str]]:
    """({case: image}, {case: why it did not compile}), each compiled for the guest
    (with the guest's programs under sysroot)."""
    images, failed = {}, {}
    more = ["--sysroot", sysroot] if sysroot else []
    for name in names:
        base = re.sub(r"\W", "_", name[:-4])
        out = os.path.join(workdir, base)
        p = subprocess.run([sys.executable, "-m", "ftstap", "-r", kinfo, *more, "-x", "12345", "-p4", "-m", base,
                            os.path.join(CASES, name)], cwd=workdir, capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, PYTHONPATH=ROOT))
        if p.returncode == 0 and os.path.exists(out + ".ftsimg"):
            with open(out + ".ftsimg", "rb") as f:
                images[name] = f.read()
        else:
            failed[name] = (p.stdout + p.stderr).strip()
    return images, failed


def guest_script(names: list[str], sleeper: bool) -> str:
    lines = ["busybox ip link set lo up"]
    if sleeper:
        lines.append("(while :; do /usr/bin/sleep 1; done) >/dev/null 2>&1 & S=$!")
    for name in names:
        lines.append(f"echo '== case {name}'; ftstap-run -x 12345 -T 20 /images/{shlex.quote(name)}.ftsimg 2>&1; "
                     "echo \"rc=$?\"; echo '== end'")
    lines.append("echo \"== case leftovers\"; grep -c ftstap_ /sys/kernel/tracing/kprobe_events; echo '== end'")
    return "\n".join(lines) + "\n"


def run_suite(arch: str, workdir: str) -> dict[str, tuple[bool, str]]:
    """{case: (passed, output or why not run)} of every bpf case in arch's bare guest."""
    conf = scorer()
    names = sorted(n for n in os.listdir(CASES) if n.endswith(".stp"))
    runner = build_runner(arch, workdir)
    kinfo = describe(runner, arch, workdir)
    sysroot, extra = None, {}
    if arch == "x86_64" and os.uname().machine == "x86_64":
        extra = host_files(SLEEP_FILES)
    elif arch == "aarch64":
        sysroot, extra = arm64_sleep()              # Debian's arm64 sleep, and -r --sysroot to find it
    images, failed = compile_cases(kinfo, names, workdir, sysroot)
    out = boot_bare(runner, {f"{n}.ftsimg": d for n, d in images.items()}, guest_script(sorted(images), bool(extra)),
                    workdir, timeout=1800, arch=arch, files=extra)
    got = sections(out, "case")
    results = {}
    for name in names:
        if name in failed:
            results[name] = (False, "did not compile: " + failed[name])
        elif name not in got:
            results[name] = (False, "no output from the guest")
        else:
            text = got[name].rsplit("rc=", 1)[0]
            results[name] = (bool(conf.bpf_ok(name, text)), got[name])
    results["(leftovers)"] = (got.get("leftovers", "").strip() == "0", got.get("leftovers", "no output"))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="x86_64", choices=sorted(RUNNER_TARGET))
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ftstap-bpf-") as d:
        results = run_suite(a.arch, d)
    ok = sum(1 for n, (p, _) in results.items() if p and not n.startswith("("))
    for name, (passed, text) in sorted(results.items()):
        print(f"{'PASS' if passed else 'FAIL'} {name}")
        if a.verbose and not passed:
            print("    " + text.strip().replace("\n", "\n    ")[:2000])
    print(f"{ok} passed, {len(results) - 1 - ok} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
