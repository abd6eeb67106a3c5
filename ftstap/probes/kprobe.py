"""kernel.function("f")[.call|.return], kprobe.function("f")[.return],
module("m").function("f"), kernel.statement("f+0x10"): kprobe_events.

Function parameters become `$name` (BTF names and types; x86-64 argument
registers); `$return` in .return probes; `.maxactive(N)` sets a return
probe's instance count.  `sys_NAME` that is no kernel symbol (since 4.17
x86-64 syscalls are entered through `__x64_sys_NAME(struct pt_regs *)`,
arm64's through `__arm64_sys_NAME`: kernel/arch.py)
binds to that wrapper, its `$params` read from the saved user registers
with the names and types of `__do_sys_NAME` in BTF (or of the syscall
tracepoint).  Wildcards skip what the kernel cannot probe: functions
outside available_filter_functions (init text, notrace) and the kprobe
blacklist, and the __pfx_/__cfi_ padding stubs.  Binding needs kallsyms and
BTF only, not kprobe_events: on a kernel without it, syscall entry points
are served by the syscalls tracepoints with a warning, and anything else is
bound and translated as usual and refused at pass 5 (kernel/dynevents.py's
refuse_unservable) naming CONFIG_KPROBE_EVENTS."""
from __future__ import annotations

import os
import re

from ..errors import KernelError
from ..kernel import arch
from ..kernel.dynevents import NEEDS
from .base import ContextVar, EventSource, Provider, Unservable, has_wildcard
from .grammar import Grammar
from .targets import KprobeTarget
from .tracepoint import tracepoint_source

_AT_OFFSET = re.compile(r"^([A-Za-z_.$][\w.$]*)\+(0[xX][0-9a-fA-F]+|[0-9]+)$")   # "f+0x10": inside f
_SYSCALL_ENTRY = re.compile(r"^(?:" + "|".join(arch.WRAPPERS) + r"|__ia32_sys_|__se_sys_|__do_sys_|ksys_|sys_)(\w+)$")
RENAMED = {"do_fork": "kernel_clone (renamed in Linux 5.10)",
           "_do_fork": "kernel_clone (renamed in Linux 5.10)",
           "do_sys_open": "do_sys_openat2 (Linux 5.6)"}
MAXACTIVE_MAX = 65535                # stap's range for .maxactive(N)
PADDING = ("__pfx_", "__cfi_")     # padding/CFI stubs the compiler puts before functions
KPROBES_MISSING = NEEDS["kprobe"]
KPROBE_BLACKLIST = "/sys/kernel/debug/kprobes/blacklist"
_probeable_cache: dict[str, frozenset | None] = {}


def _btf_context(features, func: str, is_return: bool, module: str | None = None) -> dict[str, ContextVar]:
    """$arguments of a kernel function, typed from vmlinux's BTF or, for a
    module's function, from the module's."""
    ctx: dict[str, ContextVar] = {}
    try:
        btf = features.module_btf(module) if module else features.btf_reader()
        if btf is None:
            return ctx
        params = btf.func_params(func)
    except (KernelError, KeyError, LookupError):
        return ctx
    regs = arch.of(features).arg_regs
    for i, p in enumerate(params[:len(regs)]):
        ctype = btf.describe(p.type) if hasattr(p, "type") else "long"
        # a kretprobe sees the registers at return, not the entry values
        fetch = ("entry", regs[i]) if is_return else ("reg", regs[i])
        ctx[p.name] = ContextVar(p.name, "long", ctype, fetch, btf_type=p.type)
    if is_return:
        ctx["return"] = ContextVar("return", "long", "long", ("retval",))
    return ctx


def _no_module_btf(features, module: str) -> bool:
    try:
        return features.module_btf(module) is None
    except KernelError:
        return True


def _syscall_context(features, name: str, is_return: bool) -> dict[str, ContextVar]:
    """$params of `__x64_sys_NAME(const struct pt_regs *regs)` (or the
    architecture's wrapper: kernel/arch.py): the user's
    argument registers saved in *regs, named and typed as `__do_sys_NAME`
    (BTF) or, failing that, as the syscalls:sys_enter_NAME fields."""
    ctx: dict[str, ContextVar] = {}
    try:
        btf = features.btf_reader()
        params = [(p.name, btf.describe(p.type), p.type) for p in btf.func_params("__do_sys_" + name)]
    except (KernelError, KeyError, LookupError):
        params = []
    if not params:
        try:
            fmt = features.tracepoint_format("syscalls", "sys_enter_" + name)
            params = [(f.name, f.ctype, None) for f in fmt.fields if f.name != "__syscall_nr"]
        except (KernelError, OSError, LookupError):
            params = []
    for (pname, ctype, tid), where in zip(params, arch.of(features).wrapper_args):
        fetch = ("entry", where) if is_return else ("reg", where)
        ctx[pname] = ContextVar(pname, "long", ctype, fetch, btf_type=tid)
    if is_return:
        ctx["return"] = ContextVar("return", "long", "long", ("retval",))
    return ctx


def _kallsyms(features):
    """The kernel's symbols, which every kprobe is bound from."""
    try:
        return features.kallsyms()
    except KernelError as e:
        raise Unservable(f"kernel functions are found in the kernel's symbol table: {e}") from None


def _init_text(syms) -> tuple[int, int]:
    """[_sinittext, _einittext): functions freed after boot, which kprobes refuse."""
    lo, hi = syms.address_of("_sinittext"), syms.address_of("_einittext")
    return (lo, hi) if lo and hi else (0, 0)


def _probeable(features, syms) -> frozenset | None:
    """Names a wildcard may expand to: available_filter_functions (which
    leaves out init text and notrace functions, which kprobes refuse too)
    minus the kprobe blacklist; None when the kernel does not say."""
    root = getattr(features, "tracefs", None)
    if not root or getattr(features, "snapshot", None):
        return None
    if root not in _probeable_cache:
        names = None
        try:
            with open(os.path.join(root, "available_filter_functions")) as f:
                names = {line.split(" ", 1)[0].rstrip("\n") for line in f}
        except OSError:
            pass
        if names is not None:
            try:
                with open(KPROBE_BLACKLIST) as f:
                    names -= {line.split()[1] for line in f if len(line.split()) > 1}
            except OSError:
                pass
        _probeable_cache[root] = frozenset(names) if names is not None else None
    return _probeable_cache[root]


class KprobeProvider(Provider):
    grammar = Grammar(("kernel.function(string)[.call|.return|.inline|.exported]",
                       "kernel.function(string).return.maxactive(number)",
                       "kernel.statement(string)",
                       "kprobe.function(string)[.call|.return]",
                       "kprobe.function(string).return.maxactive(number)",
                       "module(string).function(string)[.call|.return|.inline|.exported]",
                       "module(string).function(string).return.maxactive(number)"))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None or m.wrong:
            return None
        family, module, is_return = comps[0].name, m.get("module"), "return" in m
        pattern = m["function"] if "function" in m else m["statement"]
        maxactive = m.get("maxactive", 0)              # only after .return (the grammar says)
        if not 0 <= maxactive <= MAXACTIVE_MAX:
            raise Unservable(f"maxactive value out of range [0,{MAXACTIVE_MAX}]")
        if "inline" in m:
            raise Unservable(".inline: the inlined copies of a function have no symbol; finding them "
                             "needs the kernel's DWARF, which ftstap does not read (kallsyms and BTF "
                             "describe only out-of-line functions)")
        at = _AT_OFFSET.match(pattern)
        if at is not None and int(at.group(2), 0):
            if is_return:
                raise Unservable(f"{pattern}: a return probe is placed at a function's entry, not at an offset")
            return self._at_offset(features, comps, at.group(1), int(at.group(2), 0))
        if not features.kprobe_events:
            served = self._syscall_tracepoint(features, pattern, is_return)
            if served:
                return served
        return self._kprobes(features, family, pattern, is_return, module, maxactive)

    @staticmethod
    def _no_module(syms, module: str, features=None, function: str = "") -> None:
        """Unservable when no loaded module is called `module` (a glob); for a
        module stap's tapsets probe (kmodules.KNOWN), naming the feature missing."""
        import fnmatch

        from .kmodules import missing
        loaded = syms.modules()
        if features is not None and not any(fnmatch.fnmatchcase(m, module) for m in loaded):
            text = missing(features, module, function, loaded)
            if text:
                raise Unservable(text)
        if not loaded:
            raise Unservable(f'module("{module}"): the kernel\'s symbol table lists no module symbols (no module '
                             "is loaded, or the kernel has none: CONFIG_MODULES)")
        if not any(fnmatch.fnmatchcase(m, module) for m in loaded):
            raise Unservable(f'module("{module}") is not loaded (kallsyms lists {len(loaded)} modules; '
                             "load it first, or check the name)")

    def _kprobes(self, features, family, pattern, is_return, module, maxactive):
        syms = _kallsyms(features)
        base, _, where = pattern.partition("@")
        if ":" in where:
            # f@file.c:LINE (or :*): a source line; without the line table this
            # would silently become f's entry, so it is refused instead
            raise Unservable(f'{pattern}: probing a source line needs the kernel\'s DWARF line table, '
                             'which ftstap does not read (kallsyms and BTF have no line numbers): '
                             f'probe the function (kernel.function("{base}")) or a byte offset in it '
                             f'(kernel.statement("{base}+0x10"))')
        wild = has_wildcard(base)
        if where and wild:
            raise Unservable(f"{pattern}: choosing functions by source file needs the kernel's DWARF "
                             "(kallsyms and BTF do not say which file a function is in): "
                             "name the functions instead")
        found = syms.glob(base, module) if wild else syms.lookup_all(base)
        if module is not None:
            import fnmatch
            found = [s for s in found if s.module and fnmatch.fnmatchcase(s.module, module)]
            if not found:
                self._no_module(syms, module, features, base)
        if not found and base.startswith("sys_") and module is None:
            found = (syms.glob if wild else syms.lookup_all)(arch.of(features).syscall_wrapper + base[4:])
        if wild:
            ok = _probeable(features, syms)
            found = [s for s in found if (ok is None or s.name in ok) and not s.name.startswith(PADDING)]
        elif not found and module is None:
            self._not_found(features, base)
        init = _init_text(syms)
        if not wild and found and all(init[0] <= s.address < init[1] for s in found):
            raise Unservable(f"{base} is in the kernel's init text (.init.text), which is freed after "
                             "boot: it cannot be probed")
        out = []
        seen = set()
        for s in found:
            if s.name in seen or s.type not in "tT" or init[0] <= s.address < init[1]:
                continue
            seen.add(s.name)
            pp = f'{family}.function("{s.name}")' + (".return" if is_return else "")
            wrapper = arch.of(features).syscall_wrapper
            if s.name.startswith(wrapper):
                ctx = _syscall_context(features, s.name[len(wrapper):], is_return)
            else:
                ctx = _btf_context(features, s.name, is_return, s.module)
            src = EventSource(KprobeTarget(s.name, 0, maxactive, is_return), pp, ctx)
            if s.module and not ctx and _no_module_btf(features, s.module):
                src.note = (f"WARNING: {pp} is in module {s.module}: its $arguments need the module's BTF "
                            f"(/sys/kernel/btf/{s.module}), which this kernel does not have "
                            "(CONFIG_DEBUG_INFO_BTF_MODULES)")
            out.append(src)
        return out

    def _at_offset(self, features, comps, symbol: str, offset: int):
        """kernel.statement("f+0x10") / kernel.function("f+16"): a kprobe at
        that byte offset inside f.  Its registers are no longer f's
        arguments, so it offers no `$name` (stap's statement probes need
        debuginfo for that)."""
        sym = next((s for s in _kallsyms(features).lookup_all(symbol) if s.type in "tT"), None)
        if sym is None:
            return []
        pp = ".".join(f'{c.name}("{c.arg.value}")' if c.arg is not None else c.name for c in comps)
        return [EventSource(KprobeTarget(sym.name, offset), pp, {})]

    def _syscall_tracepoint(self, features, pattern, is_return):
        """On a kernel without kprobe_events, a syscall entry point is served
        by its syscalls tracepoint (with a note: the same moment and arguments,
        but stap would use a kprobe), so the script still runs."""
        m = _SYSCALL_ENTRY.match(pattern)
        if not (m and not has_wildcard(pattern) and features.events_root):
            return None
        event = ("sys_exit_" if is_return else "sys_enter_") + m.group(1)
        if not features.has_tracepoint("syscalls", event):
            return None
        src = tracepoint_source(features, "syscalls", event,
                                f'kernel.function("{pattern}")' + (".return" if is_return else ""), is_return)
        if is_return and "ret" in src.context:
            src.context["return"] = src.context["ret"]
        src.note = (f"WARNING: kernel.function(\"{pattern}\") is served by the tracepoint "
                    f"syscalls:{event}: {KPROBES_MISSING}")
        return [src]

    def _not_found(self, features, name):
        """No kernel function NAME: say what it became, if we know."""
        alt = f"did you mean {RENAMED[name]}?" if name in RENAMED else ""
        if features.events_root:
            tps = [f"{s}:{name}" for s in ("sched", "syscalls", "net", "signal", "block", "irq")
                   if s in features.tracepoint_systems() and features.has_tracepoint(s, name)]
            if tps:
                alt += ("; " if alt else "") + f'a tracepoint exists: kernel.trace("{tps[0]}")'
        if alt:
            raise Unservable(f"no kernel function {name}; {alt}")
