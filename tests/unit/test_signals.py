"""runtime/signals.py: which signals end a session and with what status; the
C loop (native/loop.c) agrees; -c failures are reported as stap does."""
import os
import signal
import threading

from ftstap.runtime import signals
from ftstap.runtime.session import command_failure


def test_python_and_the_c_loop_agree_on_the_signals():
    from ftstap.runtime.native import lib
    for sig in range(1, signal.NSIG):
        assert lib.ft_stop_signal_kind(sig) == signals.kind(sig), signal.strsignal(sig)


def test_staprun_signals_and_the_others():
    assert [signals.kind(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)] == [1] * 4
    assert signals.kind(signal.SIGUSR1) == signals.kind(signal.SIGRTMIN + 3) == 2
    # not asynchronous requests to stop: faults, job control, SIGCHLD, SIGPIPE (EPIPE ends it)
    for sig in (signal.SIGSEGV, signal.SIGTSTP, signal.SIGCHLD, signal.SIGPIPE, signal.SIGKILL):
        assert signals.kind(sig) == 0
    assert signals.status_after(0, signal.SIGHUP) == 0
    assert signals.status_after(0, signal.SIGUSR1) == 128 + signal.SIGUSR1
    assert signals.status_after(1, 0) == 1


def _to_this_thread(sig):
    """Thread-directed: held() blocks signals in this (the main) thread,
    where ftstap's loop runs; a process-directed kill could go to a thread
    another test left behind, which blocks nothing."""
    signal.pthread_kill(threading.get_ident(), sig)


def test_a_signal_raises_outside_the_loop_and_is_noted_during_teardown():
    old = {s: signal.getsignal(s) for s in signals.ALL}
    try:
        signals.install()
        try:
            _to_this_thread(signal.SIGUSR2)
            raise AssertionError("not raised")
        except signals.Interrupted as e:
            assert e.signum == signal.SIGUSR2 and e.status == 128 + signal.SIGUSR2
        with signals.deferred():
            _to_this_thread(signal.SIGHUP)
        assert signals.noted() == signal.SIGHUP and signals.noted() == 0
        with signals.held():
            _to_this_thread(signal.SIGUSR1)             # pending until the end: noted
        assert signals.noted() == signal.SIGUSR1
    finally:
        for s, h in old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


def test_command_failure_as_stap_says_it():
    assert command_failure(None) is None and command_failure(0) is None
    assert command_failure(127 << 8) == "WARNING: Child process exited with status 127"
    assert command_failure(signal.SIGKILL) == "WARNING: Child process exited with signal 9 (Killed)"
