"""What the running kernel offers (or a snapshot of another kernel's).

Pass 2 asks this object which provider can serve a probe point.  Detection
runs at every start, so it only stats and reads a handful of small files
(~1 ms); anything bigger (tracepoint lists and formats, /proc/config.gz,
BTF, kallsyms) is read on first use.

A snapshot directory lets one machine compile for another:

    DIR/features.json              this dataclass
    DIR/config                     the kernel config text (if readable)
    DIR/events/SYS/EVENT/format    tracepoint formats
    DIR/btf/vmlinux                BTF (optional)
    DIR/kallsyms                   text symbols (optional)
"""
from __future__ import annotations

import json
import os
import re
from ..record import mutable
from typing import ClassVar

from ftstap.errors import KernelError
from ftstap.kernel import tracefs as _tfs

PMU_DIR = "/sys/bus/event_source/devices"
BTF_VMLINUX = "/sys/kernel/btf/vmlinux"
KALLSYMS = "/proc/kallsyms"
SNAPSHOT_VERSION = 1
# events/ entries that are not perf-openable tracepoint systems
_NOT_TRACEPOINTS = re.compile(r"^(ftrace|ftstap_\d+)$")
_CORE_PMUS = ("cpu", "cpu_core", "cpu_atom")


def parse_cpu_list(text: str) -> tuple[int, ...]:
    """"0-3,8,10-11" -> (0, 1, 2, 3, 8, 10, 11)."""
    out: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return tuple(out)


def parse_config(text: str) -> dict[str, str]:
    """CONFIG_X=y / CONFIG_S="str" lines -> {"CONFIG_X": "y", "CONFIG_S": "str"};
    "# CONFIG_X is not set" lines are left out (stap treats them as unset)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_"):
            key, _, val = line.partition("=")
            val = val.strip()
            if len(val) >= 2 and val[0] == val[-1] == '"':
                val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            out[key.strip()] = val
    return out


def _version_tuple(release: str) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not m:
        return (0, 0, 0)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def hz_from_timer_list(text: str) -> int | None:
    import re
    now, jiffies = re.search(r"now at (\d+) nsecs", text), re.search(r"\njiffies: (\d+)", text)
    if not now or not jiffies:
        return None
    uptime, ticks = int(now.group(1)) / 1e9, int(jiffies.group(1))
    rates = (100, 250, 300, 1000, 24, 32, 48, 64, 128, 200, 256, 512, 1024, 1200)
    return min(rates, key=lambda hz: abs(2 ** 32 + hz * (uptime - 300) - ticks))


def _read(path: str, limit: int = -1) -> str | None:
    try:
        with open(path) as f:
            return f.read(limit)
    except OSError:
        return None


@mutable
class KernelFeatures:
    release: str
    version: tuple[int, int, int]
    arch: str
    tracefs: str | None                 # mounted tracefs path, None if unavailable
    tracefs_error: str | None           # why not
    kprobe_events: bool
    uprobe_events: bool
    dynamic_events: bool
    pmus: dict[str, int]                # /sys/bus/event_source/devices/NAME/type
    btf: bool                           # /sys/kernel/btf/vmlinux present
    kallsyms_addresses: bool            # /proc/kallsyms shows real addresses
    cpus: tuple[int, ...]               # online CPU ids
    eprobe_events: bool = False         # tracefs README documents `e:` (see has_eprobes)
    snapshot: str | None = None         # set when loaded from a snapshot dir
    described: bool = False             # from a description (-r FILE): maybe another machine's kernel
    _cache: dict = {}                    # derived facts, computed on first use
    _ignore = ("_cache",)

    # -- detection ----------------------------------------------------------
    @classmethod
    def detect(cls, mount: bool = True, files=None) -> "KernelFeatures":
        """Probe the running system (mounting tracefs when root and needed),
        or, given files (kernel/files.py KinfoFiles), the kernel a
        description describes: the same reads either way."""
        from .files import LiveFiles
        files = files or LiveFiles()
        release, machine = files.uname()
        try:
            root, err = files.tracefs(mount), None
        except KernelError as e:
            root, err = None, str(e)
        pmus = {}
        for name in files.listdir(PMU_DIR):
            t = files.read(os.path.join(PMU_DIR, name, "type"))
            if t and t.strip().isdigit():
                pmus[name] = int(t)
        head = files.read(KALLSYMS, 64) or ""
        addr = head.split(" ", 1)[0]
        cpus = parse_cpu_list(files.read("/sys/devices/system/cpu/online") or "") \
            or tuple(range(os.cpu_count() or 1))
        has = lambda name: bool(root) and files.exists(os.path.join(root, name))     # noqa: E731
        return cls(
            release=release, version=_version_tuple(release), arch=machine,
            tracefs=root, tracefs_error=err,
            kprobe_events=has("kprobe_events"), uprobe_events=has("uprobe_events"),
            dynamic_events=has("dynamic_events"),
            eprobe_events=bool(root) and "e[:[<group>/][<event>]]" in (files.read(os.path.join(root, "README")) or ""),
            pmus=pmus, btf=files.exists(BTF_VMLINUX),
            kallsyms_addresses=bool(addr) and addr.strip("0") != "", cpus=cpus)

    _current: ClassVar["KernelFeatures | None"] = None

    @classmethod
    def current(cls) -> "KernelFeatures":
        """The running kernel's features, detected once per process."""
        if cls._current is None:
            cls._current = cls.detect()
        return cls._current

    # -- derived facts ------------------------------------------------------
    @property
    def online_cpus(self) -> int:
        return len(self.cpus)

    def pmu(self, name: str) -> int | None:
        """perf_event_attr.type of a PMU, None if absent."""
        return self.pmus.get(name)

    kprobe_pmu = property(lambda self: self.pmus.get("kprobe"))
    uprobe_pmu = property(lambda self: self.pmus.get("uprobe"))
    software_pmu = property(lambda self: self.pmus.get("software"))
    tracepoint_pmu = property(lambda self: self.pmus.get("tracepoint"))
    breakpoint_pmu = property(lambda self: self.pmus.get("breakpoint"))

    @property
    def hardware_pmu(self) -> str | None:
        """Name of a core PMU that serves PERF_TYPE_HARDWARE events, if any."""
        for name in self.pmus:
            if name in _CORE_PMUS or name.startswith(("armv", "arm_cortex")):
                return name
        return None

    @property
    def has_kprobes(self) -> bool:
        return self.kprobe_events or self.kprobe_pmu is not None

    @property
    def has_eprobes(self) -> bool:
        """Event probes (`e:` in dynamic_events, CONFIG_EPROBE_EVENTS).  The
        README documents them even when they are configured out, so a
        readable kernel config has the last word."""
        if not (self.eprobe_events and self.dynamic_events):
            return False
        return not self.config_known or self.config("CONFIG_EPROBE_EVENTS") == "y"

    @property
    def has_uprobes(self) -> bool:
        return self.uprobe_events or self.uprobe_pmu is not None

    @property
    def events_root(self) -> str | None:
        """Directory holding events/SYS/EVENT/format: tracefs or the snapshot."""
        return self.snapshot or self.tracefs

    @property
    def btf_path(self) -> str | None:
        if self.snapshot:
            p = os.path.join(self.snapshot, "btf", "vmlinux")
            return p if os.path.exists(p) else None
        return BTF_VMLINUX if self.btf else None

    # -- tracepoints (lazy) ---------------------------------------------------
    def _require_events(self) -> str:
        root = self.events_root
        if root is None:
            raise KernelError(f"tracepoints are unavailable: {self.tracefs_error}")
        return root

    def tracepoint_systems(self) -> list[str]:
        if "systems" not in self._cache:
            root = self.events_root
            self._cache["systems"] = [] if root is None else \
                [s for s in _tfs.list_systems(root) if not _NOT_TRACEPOINTS.match(s)]
        return self._cache["systems"]

    def tracepoint_events(self, system: str) -> list[str]:
        root = self.events_root
        return [] if root is None or _NOT_TRACEPOINTS.match(system) else _tfs.list_events(system, root)

    def has_tracepoint(self, system: str, event: str) -> bool:
        root = self.events_root
        return root is not None and not _NOT_TRACEPOINTS.match(system) \
            and _tfs.has_event(system, event, root)

    def tracepoint_format(self, system: str, event: str) -> _tfs.EventFormat:
        key = ("fmt", system, event)
        if key not in self._cache:
            self._cache[key] = _tfs.read_format(system, event, self._require_events())
        return self._cache[key]

    # -- kernel config (lazy) -------------------------------------------------
    def configs(self) -> dict[str, str]:
        """All CONFIG_* values; {} when the config is not readable."""
        if "config" not in self._cache:
            text = None
            if self.snapshot:
                text = _read(os.path.join(self.snapshot, "config"))
            else:
                import gzip
                try:
                    with gzip.open("/proc/config.gz", "rt") as f:
                        text = f.read()
                except OSError:
                    text = _read(f"/boot/config-{self.release}")
            self._cache["config"] = parse_config(text or "")
            self._cache["config_known"] = text is not None
        return self._cache["config"]

    @property
    def config_known(self) -> bool:
        self.configs()
        return self._cache["config_known"]

    def config_lookup(self) -> "ConfigLookup":
        """CONFIG_X -> its value ("" if unset), for pass 1's %( CONFIG_X ... %)."""
        return ConfigLookup(self.configs())

    def config(self, name: str) -> str | None:
        """Value of CONFIG_NAME ("y", "m", a number or string), None if unset."""
        if not name.startswith("CONFIG_"):
            name = "CONFIG_" + name
        return self.configs().get(name)

    @property
    def hz(self) -> int | None:
        """The kernel's tick rate (CONFIG_HZ): from the config, else worked
        out from /proc/timer_list (uptime and jiffies: the kernel starts
        jiffies at 2^32 - 300 * HZ, so one rate fits both); None if unknown.
        Not USER_HZ (sysconf's CLK_TCK, always 100 on x86)."""
        value = self.config("CONFIG_HZ")
        if value and value.isdigit():
            return int(value)
        path = os.path.join(self.snapshot, "timer_list") if self.snapshot else "/proc/timer_list"
        return hz_from_timer_list(_read(path, 16384) or "")

    # -- big readers (lazy) -----------------------------------------------------
    def btf_reader(self):
        """The kernel's BTF (ftstap.kernel.btf.BTF); KernelError if none."""
        if "btf" not in self._cache:
            from ftstap.kernel.btf import BTF
            path = self.btf_path
            if path is None:
                raise KernelError("this kernel has no BTF (/sys/kernel/btf/vmlinux; needs "
                                  "CONFIG_DEBUG_INFO_BTF): no argument names or struct layouts")
            self._cache["btf"] = BTF.vmlinux() if path == BTF_VMLINUX else BTF.load(path)
        return self._cache["btf"]

    def module_btf(self, module: str):
        """The BTF of a loaded module (/sys/kernel/btf/MODULE, split over
        vmlinux's: CONFIG_DEBUG_INFO_BTF_MODULES), None if it has none.
        Kept on the vmlinux reader, so every user walks the same ids."""
        base = self.btf_reader()
        if module in base.modules:
            return base.modules[module]
        if not re.fullmatch(r"[\w-]{1,64}", module) or module == "vmlinux":
            return None
        path = os.path.join(os.path.dirname(self.btf_path), module)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            base.modules[module] = None
            return None
        return base.split(data, path, module)

    def kallsyms(self):
        """ftstap.kernel.symbols.Kallsyms of this kernel (or snapshot)."""
        if "kallsyms" not in self._cache:
            from ftstap.kernel.symbols import Kallsyms
            path = os.path.join(self.snapshot, "kallsyms") if self.snapshot else KALLSYMS
            if self.snapshot and not os.path.exists(path):
                raise KernelError(f"snapshot {self.snapshot} has no kallsyms")
            self._cache["kallsyms"] = Kallsyms.load(path)
        return self._cache["kallsyms"]

    # -- snapshots ---------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {f: getattr(self, f) for f in self._fields if f != "_cache"}
        d.pop("snapshot", None)
        d.pop("described", None)         # how it was read, not a fact of the kernel
        d["version"] = list(self.version)
        d["cpus"] = list(self.cpus)
        d["snapshot_version"] = SNAPSHOT_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict, snapshot: str | None = None) -> "KernelFeatures":
        if d.get("snapshot_version", 0) > SNAPSHOT_VERSION:
            raise KernelError("kernel snapshot was written by a newer ftstap")
        return cls(release=d["release"], version=tuple(d["version"]), arch=d["arch"],
                   tracefs=d.get("tracefs"), tracefs_error=d.get("tracefs_error"),
                   kprobe_events=d["kprobe_events"], uprobe_events=d["uprobe_events"],
                   dynamic_events=d.get("dynamic_events", False), pmus=dict(d["pmus"]),
                   btf=d["btf"], kallsyms_addresses=d["kallsyms_addresses"],
                   cpus=tuple(d["cpus"]), eprobe_events=d.get("eprobe_events", False),
                   snapshot=snapshot)

    @classmethod
    def from_snapshot(cls, directory: str) -> "KernelFeatures":
        path = os.path.join(directory, "features.json")
        try:
            with open(path) as f:
                d = json.load(f)
        except FileNotFoundError:
            raise KernelError(f"{directory} is not a kernel snapshot (no features.json)") from None
        except (OSError, ValueError) as e:
            raise KernelError(f"cannot read kernel snapshot {path}: {e}") from None
        return cls.from_dict(d, snapshot=os.path.abspath(directory))

    def save_snapshot(self, directory: str, formats: bool = True, btf: bool = True,
                      kallsyms: bool = False) -> None:
        """Write what compiling for this kernel needs into `directory`."""
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "features.json"), "w") as f:
            json.dump(self.to_dict(), f, indent=1, sort_keys=True)
        if self.config_known:
            with open(os.path.join(directory, "config"), "w") as f:
                f.writelines(f"{k}={v}\n" if re.fullmatch(r"[ymn]|-?(0x)?[0-9a-fA-F]+", v)
                             else f'{k}="{v}"\n' for k, v in sorted(self.configs().items()))
        if formats and self.events_root:
            src_root = self.events_root
            for system in self.tracepoint_systems():
                for event in self.tracepoint_events(system):
                    src = os.path.join(src_root, "events", system, event, "format")
                    text = _read(src)
                    if text is None:
                        continue
                    dst = os.path.join(directory, "events", system, event)
                    os.makedirs(dst, exist_ok=True)
                    with open(os.path.join(dst, "format"), "w") as f:
                        f.write(text)
        if btf and self.btf_path:
            import shutil
            os.makedirs(os.path.join(directory, "btf"), exist_ok=True)
            shutil.copyfile(self.btf_path, os.path.join(directory, "btf", "vmlinux"))
            src = os.path.dirname(self.btf_path)          # and the loaded modules' BTF beside it
            for name in sorted(os.listdir(src)):
                if name != "vmlinux" and re.fullmatch(r"[\w-]{1,64}", name):
                    shutil.copyfile(os.path.join(src, name), os.path.join(directory, "btf", name))
        if kallsyms:
            # text symbols only: what kernel.function globs and backtraces need
            ks = self.kallsyms()
            with open(os.path.join(directory, "kallsyms"), "w") as f:
                f.writelines(line + "\n" for line in ks.text.splitlines()
                             if line.split(" ", 2)[1:2] in (["t"], ["T"], ["w"], ["W"]))


def detect(mount: bool = True) -> KernelFeatures:
    return KernelFeatures.detect(mount=mount)


class ConfigLookup:
    """A kernel config as preprocessor conditions ask it: a name gives its
    value, "" when unset.  Its repr is a digest of the values, so a cache
    keyed on it (lang/tapsetcache.py) changes when the config does."""

    def __init__(self, values: dict[str, str]):
        self.values = values

    def __call__(self, name: str) -> str:
        return self.values.get(name, "")

    def __repr__(self) -> str:
        import hashlib
        text = "\n".join(f"{k}={v}" for k, v in sorted(self.values.items()))
        return f"ConfigLookup({hashlib.sha256(text.encode()).hexdigest()[:16]})"
