"""Where script output goes (-o FILE, -b): stap's file names, the framing
stap-merge reads, and one clear message when a file cannot be opened.
Begin probes need no kernel events, so these run without root."""
import os
import subprocess
import sys
import time

import pytest

from ftstap.errors import FtstapError
from ftstap.runtime.outputs import FRAME, MAGIC, bulk_names, expand_name, merge, open_outputs, read_frames

NOON = time.mktime((2024, 3, 5, 12, 0, 0, 0, 0, -1))    # local time, as stap's strftime uses


def ftstap(*argv, cwd=None):
    r = subprocess.run([sys.executable, "-m", "ftstap", *argv], capture_output=True, text=True,
                       timeout=60, cwd=cwd)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def online():
    from ftstap.runtime.session import online_cpus
    return online_cpus()


def test_bulk_names_without_o_are_stpd_cpu_n():
    assert bulk_names(None, [0, 1, 3]) == {0: "stpd_cpu0", 1: "stpd_cpu1", 3: "stpd_cpu3"}


def test_bulk_names_with_o_are_file_n():
    assert bulk_names("/tmp/trace", [0, 2]) == {0: "/tmp/trace_0", 2: "/tmp/trace_2"}


def test_bulk_names_dev_null_stays():
    assert bulk_names("/dev/null", [0, 1]) == {0: "/dev/null", 1: "/dev/null"}


def test_o_file_takes_strftime_formats():
    assert expand_name("t-%Y%m%d-%H", NOON) == "t-20240305-12"
    assert expand_name("plain.txt", NOON) == "plain.txt"
    assert bulk_names("t-%Y", [1], NOON) == {1: "t-2024_1"}


def test_read_frames_and_merge():
    a = FRAME.pack(MAGIC, 1, 2) + b"a\n" + FRAME.pack(MAGIC, 3, 2) + b"c\n"
    b = FRAME.pack(MAGIC, 2, 4) + b"b\nb\n"
    assert read_frames(a) == [(1, b"a\n"), (3, b"c\n")]
    assert merge([a, b]) == b"a\nb\nb\nc\n"
    with pytest.raises(ValueError):
        read_frames(b"plain text, no header")


def test_open_outputs_unwritable_is_one_error(tmp_path):
    with pytest.raises(FtstapError, match=r"cannot open output file '.*/missing/x_0': No such file"):
        open_outputs(str(tmp_path / "missing" / "x"), bulk=True, cpus=[0, 1])
    with pytest.raises(FtstapError, match=r"cannot open output file '.*/missing/x': No such file"):
        open_outputs(str(tmp_path / "missing" / "x"))


def test_open_outputs_bulk_fds_by_cpu(tmp_path):
    outs = open_outputs(str(tmp_path / "o"), bulk=True, cpus=[0, 2])
    try:
        assert outs.out_fd == 1 and outs.bulk_fds[1] == -1 and min(outs.bulk_fds[0], outs.bulk_fds[2]) > 2
    finally:
        outs.close()
    assert sorted(os.listdir(tmp_path)) == ["o_0", "o_2"]


# ---- through the CLI ---------------------------------------------------------------------
BEGIN_END = 'probe begin { printf("begin %d\\n", cpu()) } probe end { printf("end %d\\n", cpu()) } ' \
            'probe begin { exit() }'


def test_b_with_o_writes_each_handler_to_its_cpu_file(tmp_path):
    r = ftstap("-b", "-o", str(tmp_path / "out"), "-e", BEGIN_END)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    files = {cpu: (tmp_path / f"out_{cpu}").read_bytes() for cpu in online()}
    assert sorted(os.listdir(tmp_path)) == sorted(f"out_{cpu}" for cpu in online())
    for cpu, data in files.items():
        for _, text in read_frames(data):
            for line in text.decode().splitlines():
                assert int(line.split()[1]) == cpu, (cpu, line)
    assert [line.split()[0] for line in merge(list(files.values())).decode().splitlines()] == ["begin", "end"]


def test_b_without_o_writes_stpd_cpu_files_in_cwd(tmp_path):
    r = ftstap("-b", "-e", 'probe begin { println("x"); exit() }', cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "")
    assert sorted(os.listdir(tmp_path)) == sorted(f"stpd_cpu{cpu}" for cpu in online())
    data = b"".join((tmp_path / f"stpd_cpu{cpu}").read_bytes() for cpu in online())
    assert data == FRAME.pack(MAGIC, 1, 2) + b"x\n"


def test_b_unwritable_directory_is_one_message(tmp_path):
    r = ftstap("-b", "-o", str(tmp_path / "no" / "x"), "-e", 'probe begin { exit() }')
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines() == [f"error: cannot open output file '{tmp_path}/no/x_{online()[0]}': "
                                     "No such file or directory"]


def test_o_without_b_is_plain_text(tmp_path):
    r = ftstap("-o", str(tmp_path / "plain"), "-e", 'probe begin { println("x"); exit() } probe end { println("y") }')
    assert (r.returncode, r.stdout) == (0, "")
    assert (tmp_path / "plain").read_text() == "x\ny\n"


def test_o_unwritable_is_one_message(tmp_path):
    r = ftstap("-o", str(tmp_path / "no" / "x"), "-e", 'probe begin { exit() }')
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"error: cannot open output file '{tmp_path}/no/x': No such file or directory"]


LINES = ('probe begin { for (i = 0; i < 60000; i++) printf("%07d %s\\n", i, "0123456789012345678901234567890123456789")'
         '; exit() }')          # 60000 lines of 49 bytes: 2.8 MiB


def _numbers(path) -> list[int]:
    return [int(line.split()[0]) for line in open(path)]


def test_S_rotates_whole_lines_and_keeps_the_last_n(tmp_path):
    r = ftstap("-D", "MAXACTION=1000000", "-S", "1,2", "-o", str(tmp_path / "t-%Y"), "-e", LINES, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stderr
    year = time.strftime("%Y")
    # FILE.0, .1, .2 were written; only the last two are kept
    assert sorted(os.listdir(tmp_path)) == [f"t-{year}.1", f"t-{year}.2"]
    first, second = tmp_path / f"t-{year}.1", tmp_path / f"t-{year}.2"
    size = os.path.getsize(first)
    assert 1048576 - 49 < size <= 1048576         # as full as whole lines allow
    assert open(first, "rb").read().endswith(b"\n")
    n1, n2 = _numbers(first), _numbers(second)
    assert n1 == list(range(size // 49, 2 * size // 49)) and n2 == list(range(2 * size // 49, 60000))


def test_switch_file_moves_on_to_file_dot_n(tmp_path):
    script = 'probe begin { println("a"); switch_file(); println("b"); switch_file(); switch_file(); println("c"); exit() }'
    r = ftstap("-o", "out", "-e", script, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # two calls with no output between switch once, as staprun does
    assert {f: open(tmp_path / f).read() for f in os.listdir(tmp_path)} == {"out": "a\n", "out.1": "b\n",
                                                                           "out.2": "c\n"}
    r = ftstap("-e", 'probe begin { println("x"); switch_file(); println("y"); exit() }', cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "x\ny\n")      # no -o: nothing to switch


def test_S_with_switch_file(tmp_path):
    r = ftstap("-S", "1", "-o", "s", "-e", 'probe begin { println("a"); switch_file(); println("b"); exit() }',
               cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (open(tmp_path / "s.0").read(), open(tmp_path / "s.1").read()) == ("a\n", "b\n")


@pytest.mark.parametrize("argv, message", [
    (["-S", "1"], "-S needs an output file: -o FILE"),
    (["-S", "1", "-o", "f", "-b"], "-S cannot be used with -b"),
    (["-S", "0", "-o", "f"], "-S expects a file size of at least 1 MB"),
    (["-S", "1,x", "-o", "f"], "expects SIZE[,N]"),
])
def test_S_usage_errors(tmp_path, argv, message):
    r = ftstap(*argv, "-e", "probe begin { exit() }", cwd=tmp_path)
    assert r.returncode != 0 and message in r.stderr and os.listdir(tmp_path) == []


def test_rotation_into_a_missing_directory_is_one_error(tmp_path):
    r = ftstap("-S", "1", "-o", str(tmp_path / "gone" / "f"), "-e", "probe begin { exit() }")
    assert r.returncode == 1
    assert f"cannot open output file '{tmp_path}/gone/f.0': No such file or directory" in r.stderr
