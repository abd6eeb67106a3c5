"""The event loop: timers, exit(), -T, SIGTERM, and scripts with nothing left to fire."""
import os
import signal
import subprocess
import sys
import textwrap
import time

from test_vm_asm import asm, probe, run
from ftstap.image.builder import ImageBuilder

MS = 1_000_000


def counting_timer(randomize_ns=0):
    # global n; probe timer.ms(10) { n++; printf("tick %d\n", n); if (n == 5) exit() }
    b = ImageBuilder()
    b.add_global("n", "i")
    probe(b, "begin", 'PUSHS "start\\n"\nPRINTS')
    probe(b, "timer", """
        LDGI n
        PUSHI 1
        ADD
        STGI n
        LDGI n
        PRINTF "tick %d\\n"
        LDGI n
        PUSHI 5
        JNE done
        CALLB exit -
    done:
    """, interval_ns=10 * MS, randomize_ns=randomize_ns)
    probe(b, "end", 'PUSHS "end\\n"\nPRINTS')
    return b


def test_timer_counts_to_five_then_exits():
    t0 = time.monotonic()
    st, out, err = run(counting_timer())
    took = time.monotonic() - t0
    assert (st, err) == (0, "")
    assert out == "start\n" + "".join(f"tick {i}\n" for i in range(1, 6)) + "end\n"
    assert 0.04 <= took < 2


def test_randomized_timer():
    st, out, err = run(counting_timer(randomize_ns=5 * MS))
    assert out.count("tick") == 5 and out.endswith("end\n")


def test_begin_only_script_runs_until_timeout_as_stap():
    b = ImageBuilder()
    probe(b, "begin", 'PUSHS "hello\\n"\nPRINTS')
    probe(b, "end", 'PUSHS "bye\\n"\nPRINTS')
    img = b.serialize()                 # as is: run() would add an exit()
    t0 = time.monotonic()
    assert run(img, timeout=0.5) == (0, "hello\nbye\n", "")
    assert time.monotonic() - t0 >= 0.5


def test_timeout():
    b = ImageBuilder()
    probe(b, "timer", "NOP", interval_ns=1000 * MS)
    probe(b, "end", 'PUSHS "end\\n"\nPRINTS')
    t0 = time.monotonic()
    assert run(b, timeout=0.1) == (0, "end\n", "")
    assert time.monotonic() - t0 < 0.9


def test_sigterm_runs_end_probes():
    b = ImageBuilder()
    probe(b, "begin", 'PUSHS "ready\\n"\nPRINTS')
    probe(b, "timer", "NOP", interval_ns=1000 * MS)
    probe(b, "end", 'PUSHS "end after signal\\n"\nPRINTS')
    img = b.serialize()
    code = textwrap.dedent(f"""
        import sys
        from ftstap.runtime import native
        sys.exit(native.run_image({img!r}))
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        time.sleep(0.1)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
    finally:
        p.kill()
    assert (p.returncode, out, err) == (0, "end after signal\n", "")
