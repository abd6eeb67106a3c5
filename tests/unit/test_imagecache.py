"""The compiled-program cache (ftstap/imagecache.py), through the real
command line: a second run of the same script skips passes 1-4 and prints
the same thing; anything the compile depended on invalidates it."""
import os
import subprocess
import sys

import pytest

CACHED = "Pass 4: using cached"


@pytest.fixture
def run(tmp_path):
    """run(*args) -> (rc, stdout, stderr) with a private cache directory."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), TMPDIR=str(tmp_path))   # -p4 too

    def go(*args: str, cwd=None):
        p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True,
                           timeout=60, env=env, cwd=cwd)
        return p.returncode, p.stdout, p.stderr
    go.entries = lambda: sorted(p.name for p in (tmp_path / "cache" / "ftstap").glob("image-*"))
    return go


SCRIPT = 'global n; probe begin { for (i = 0; i < 3; i++) n[i] = i * i; foreach (k in n) printf("%d ", n[k]); println(@1); exit() }'


def test_second_run_uses_the_cache_and_prints_the_same(run):
    first = run("-v", "-e", SCRIPT, "x")
    assert first[0] == 0 and first[1] == "0 1 4 x\n" and CACHED not in first[2]
    second = run("-v", "-e", SCRIPT, "x")
    assert second[0] == 0 and second[1] == "0 1 4 x\n" and CACHED in second[2]
    assert len(run.entries()) == 1


def test_arguments_and_options_are_part_of_the_key(run):
    assert run("-e", SCRIPT, "x")[1] == "0 1 4 x\n"
    rc, out, err = run("-v", "-e", SCRIPT, "y")
    assert out == "0 1 4 y\n" and CACHED not in err
    rc, out, err = run("-v", "-D", "MAXMAPENTRIES=2", "-e", SCRIPT, "y")
    assert rc == 1 and CACHED not in err            # a different limit: compiled again, and it fails
    assert len(run.entries()) == 3


def test_warnings_are_printed_again_on_a_hit(run):
    script = "global unused; probe begin { println(1); exit() }"
    first = run("-e", script)
    second = run("-v", "-e", script)
    assert CACHED in second[2]
    assert "Eliding unused variable 'unused'" in first[2] and "Eliding unused variable 'unused'" in second[2]
    assert "unused" not in run("-w", "-e", script)[2]


def test_a_changed_tapset_is_compiled_again(run, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "mine.stp").write_text("function mine() { return 1 }\n")
    script = tmp_path / "main.stp"
    script.write_text("probe begin { println(mine()); exit() }\n")
    assert run("-I", str(lib), str(script))[1] == "1\n"
    assert CACHED in run("-v", "-I", str(lib), str(script))[2]
    (lib / "mine.stp").write_text("function mine() { return 22 }\n")
    rc, out, err = run("-v", "-I", str(lib), str(script))
    assert out == "22\n" and CACHED not in err
    script.write_text("probe begin { println(mine() + 1); exit() }\n")
    rc, out, err = run("-v", "-I", str(lib), str(script))
    assert out == "23\n" and CACHED not in err


def test_disable_poison_and_clean(run):
    script = "probe begin { println(42); exit() }"
    assert run("--disable-cache", "-e", script)[1] == "42\n"
    assert run.entries() == []
    run("-e", script)
    assert len(run.entries()) == 1
    rc, out, err = run("-v", "--poison-cache", "-e", script)
    assert out == "42\n" and CACHED not in err
    assert CACHED in run("-v", "-e", script)[2]
    assert run("--clean-cache")[0] == 0
    assert run.entries() == []


def test_partial_passes_and_failed_compiles_are_not_cached(run):
    assert run("-p4", "-e", "probe begin { exit() }")[0] == 0
    assert run("-e", "probe begin { exit( }")[0] == 1
    assert run.entries() == []


def test_a_removed_working_directory_runs_without_the_cache(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), TMPDIR=str(tmp_path))   # -p4 too
    r = subprocess.run(["sh", "-c", f'cd "{gone}" && rmdir "{gone}" && exec "$0" -m ftstap -e "$1"',
                        sys.executable, 'probe begin { println("here"); exit() }'],
                       capture_output=True, text=True, timeout=60, env=env)
    assert (r.returncode, r.stdout) == (0, "here\n"), r.stderr


def test_an_entry_others_may_write_is_not_used(run, tmp_path):
    # Unpickling runs code: a cache file group- or world-writable is ignored.
    script = "probe begin { println(7); exit() }"
    run("-e", script)
    [entry] = run.entries()
    os.chmod(tmp_path / "cache" / "ftstap" / entry, 0o666)
    rc, out, err = run("-v", "-e", script)
    assert out == "7\n" and CACHED not in err
    assert CACHED in run("-v", "-e", script)[2]      # the entry written again, privately
