"""usymfileline(), usymfile(), usymline(): the source line of a user
address from its program's DWARF line table (native/dwline.c), checked
against binutils' addr2line on the same program, for DWARF 4 and 5; a
program without a line table gives the address in hex, as stap does."""
import os
import re
import shutil
import subprocess
import sys

import pytest

PROG = r"""
#include <stdio.h>
__attribute__((noinline)) int work(int x)
{
    return x * 3;
}
int main(void)
{
    int s = 0;
    for (int i = 0; i < 3; i++)
        s += work(i);
    printf("sum %d\n", s);
    return 0;
}
"""
SCRIPT = ('probe process("PROG").function("work") { '
          'printf("%s|%s|%s|%x\\n", usymfileline(uaddr()), usymfile(uaddr()), usymline(uaddr()), uaddr()) }')


def run(prog):
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", prog, "-e", SCRIPT.replace("PROG", prog)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    rows = [line.split("|") for line in p.stdout.splitlines() if "|" in line]
    assert len(rows) == 3 and "sum 9" in p.stdout, p.stdout
    return rows


def link_address(prog, symbol):
    out = subprocess.run(["nm", prog], capture_output=True, text=True, check=True).stdout
    return int(re.search(rf"^([0-9a-f]+) T {symbol}$", out, re.M).group(1), 16)


@pytest.mark.parametrize("dwarf", ["-gdwarf-4", "-gdwarf-5"])
def test_lines_are_addr2lines(tfs, need, cc, dwarf):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    need(shutil.which("addr2line") and shutil.which("nm"), "binutils (addr2line, nm)")
    prog = cc(PROG, "lines" + dwarf[-1], dwarf, "-O0")
    truth = subprocess.run(["addr2line", "-e", prog, hex(link_address(prog, "work"))], capture_output=True,
                           text=True, check=True).stdout.strip()
    file, line = truth.rsplit(":", 1)
    assert line.isdigit() and file.endswith(".c")
    for fileline, f, l, _ in run(prog):
        assert (fileline, f, l) == (truth, file, line)


def test_no_line_table_gives_the_address(tfs, need, cc):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    prog = cc(PROG, "nolines")              # -g0
    for fileline, f, l, addr in run(prog):
        assert fileline == f == l == "0x" + addr
