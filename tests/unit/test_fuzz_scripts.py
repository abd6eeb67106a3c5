"""A short, fixed slice of the script-fuzz campaign (bench/scriptfuzz.py:
mutated scripts through passes 1-3, seeded and reproducible) against a
synthetic kernel: every case ends in a result or an error naming its place;
no other exception.  The full campaign: `python -m bench.scriptfuzz -n 10000`."""
import os

import pytest

from bench import scriptfuzz
from sema_support import make_snapshot

CASES = int(os.environ.get("FTSTAP_SCRIPT_FUZZ_CASES", "300"))


@pytest.fixture(scope="module")
def frontend(tmp_path_factory):
    return scriptfuzz.Frontend(make_snapshot(tmp_path_factory.mktemp("kernel")))


def test_seed_scripts_compile(frontend):
    # The seeds themselves reach pass 3 (kernel probes the snapshot lacks aside).
    for text in scriptfuzz.SEEDS:
        assert frontend.run(text) is None, text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_scripts_never_crash(frontend, seed):
    findings = []
    for index in range(CASES // 3):
        found = frontend.run(scriptfuzz.case(seed, index, scriptfuzz.SEEDS))
        if found:
            findings.append(f"{seed}:{index} {found}")
    assert not findings, "replay with python -m bench.scriptfuzz --case SEED:INDEX --show\n" + "\n".join(findings)


def test_cases_are_reproducible():
    assert scriptfuzz.case(7, 123, scriptfuzz.SEEDS) == scriptfuzz.case(7, 123, scriptfuzz.SEEDS)
    assert scriptfuzz.case(7, 123, scriptfuzz.SEEDS) != scriptfuzz.case(7, 124, scriptfuzz.SEEDS)


def test_a_crash_is_a_finding(frontend, monkeypatch):
    # The checker itself can fail: an exception that is not an FtstapError is reported.
    from ftstap.sema import elaborate
    monkeypatch.setattr(elaborate, "run_pass2", lambda *a, **k: 1 // 0)
    assert frontend.run(scriptfuzz.SEEDS[0]).startswith("ZeroDivisionError")
