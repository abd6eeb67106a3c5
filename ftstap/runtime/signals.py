"""The signals that end a session, at every moment of it.

ftstap ends on what staprun handles -- SIGINT, SIGTERM, SIGHUP (the
terminal closed), SIGQUIT: the session ends as on Ctrl-C, end probes run,
exit status 0 -- and on every other signal whose default action would kill
it (SIGUSR1, SIGUSR2, SIGALRM, ..., the real-time signals): the session ends
the same way, its events are removed, and ftstap exits 128 + signo.
native/loop.c's ft_stop_signal_kind() says the same (a unit test compares).

  - from start-up (install(), called by cli.main and by every live
    session) until the C loop runs, a handler raises Interrupted, so the
    setup in progress unwinds through its `finally` and what it created is
    removed.  The handlers are installed explicitly: a SIGINT inherited as
    ignored (`ftstap ... &` from a script) is not lost;
  - while the C loop runs (held()), the signals are blocked and the loop
    reads them from its signalfd; one that came while begin or end probes
    ran stays pending and is noted when the loop returns;
  - during teardown (deferred()), a signal is noted, never raised, so the
    teardown runs to its end.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager

STAPRUN = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
OTHERS = (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF,
          signal.SIGXCPU, signal.SIGXFSZ, signal.SIGIO, signal.SIGPWR, signal.SIGSTKFLT,
          *range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
ALL = STAPRUN + OTHERS
# Python itself ignores these at start-up; a command ftstap runs gets them back
RESET_FOR_COMMANDS = (signal.SIGPIPE, signal.SIGXFSZ)

_inherited: dict[int, object] = {}
_noted: list[int] = []
_defer = 0


class Interrupted(BaseException):
    """A signal ended the session before or after its C loop."""

    def __init__(self, signum: int):
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        super().__init__(f"interrupted by {name}")
        self.signum = signum

    @property
    def status(self) -> int:
        return 128 + self.signum


def _handler(signum, frame):
    if _defer:
        _noted.append(signum)
        return
    raise Interrupted(signum)


def install() -> None:
    """Catch every signal of ALL (idempotent)."""
    for sig in ALL:
        old = signal.signal(sig, _handler)
        if old is not _handler:
            _inherited.setdefault(sig, old)


def restore_for_command() -> None:
    """In a forked -c command, before exec: the dispositions ftstap inherited."""
    for sig in ALL:
        old = _inherited.get(sig, signal.SIG_DFL)
        signal.signal(sig, old if old in (signal.SIG_IGN, signal.SIG_DFL) else signal.SIG_DFL)
    for sig in RESET_FOR_COMMANDS:
        signal.signal(sig, signal.SIG_DFL)


@contextmanager
def deferred():
    """Signals are noted, not raised, inside (teardown)."""
    global _defer
    _defer += 1
    try:
        yield
    finally:
        _defer -= 1


@contextmanager
def critical():
    """A step that creates kernel objects and records them for teardown: a
    signal waits until the step is done, then raises."""
    with deferred():
        yield
    sig = noted()
    if sig:
        raise Interrupted(sig)


@contextmanager
def held():
    """Signals are blocked inside (the C loop reads them from a signalfd);
    those still pending at the end are noted (see noted())."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, ALL)
    try:
        yield
    finally:
        with deferred():
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def noted() -> int:
    """The first signal noted since the last call (0 if none); forgets them."""
    sig = _noted[0] if _noted else 0
    _noted.clear()
    return sig


def status_after(status: int, sig: int) -> int:
    """The exit status of a session that sig (0: none) ended."""
    return 128 + sig if kind(sig) == 2 else status


def kind(sig: int) -> int:
    """1: staprun's (exit status 0), 2: another that ends a session, 0: neither."""
    return 1 if sig in STAPRUN else 2 if sig in OTHERS else 0
