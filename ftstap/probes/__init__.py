"""Probe providers, one file per family; REGISTRY is the order pass 2 asks them."""
from .kprobe import KprobeProvider
from .netfilter import NetfilterProvider
from .perf import PerfProvider
from .process_lifecycle import ProcessLifecycleProvider
from .process_syscall import ProcessSyscallProvider
from .procfs import ProcfsProvider
from .special import SpecialProvider
from .syscall import SyscallProvider
from .timer import TimerProvider
from .tracepoint import TracepointProvider
from .uprobe import UprobeProvider

REGISTRY = (SpecialProvider(), TimerProvider(), SyscallProvider(), TracepointProvider(),
            KprobeProvider(), ProcessSyscallProvider(), ProcessLifecycleProvider(), UprobeProvider(),
            PerfProvider(), ProcfsProvider(), NetfilterProvider())
