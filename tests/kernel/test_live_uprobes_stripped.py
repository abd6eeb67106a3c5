"""uprobes on a stripped program (no .symtab, no DWARF): `main` found from
_start, its C-standard parameters ($argc, $argv), and `_init`/`_fini` from
the dynamic section, run through the CLI against the real kernel."""
import os
import subprocess
import sys

PROG = r"""
#include <stdio.h>
int main(int argc, char **argv) { printf("%d\n", argc); return 0; }
"""


def ftstap(*args):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def stripped(cc):
    prog = cc(PROG, "stripped_prog", "-s")
    syms = subprocess.run(["readelf", "-S", prog], capture_output=True, text=True).stdout
    assert ".symtab" not in syms
    return prog


def test_main_params_and_fini_of_a_stripped_program(tfs, need, cc):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    prog = stripped(cc)
    script = f'''
        probe process("{prog}").function("main") {{
            printf("main argc=%d argv1=%s argv2=%s\\n", $argc, user_string($argv[1]), user_string($argv[2]))
        }}
        probe process("{prog}").function("_fini") {{ println("fini") }}
        probe process("{prog}").function("_fini").return {{ println("fini returned") }}
    '''
    p = ftstap("-c", f"{prog} alpha beta-gamma", "-e", script)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "main argc=3 argv1=alpha argv2=beta-gamma" in lines
    assert lines.index("fini") < lines.index("fini returned")
    assert "3" in lines                    # the program's own output


def test_argv_index_must_be_a_literal(tfs, need, cc):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    prog = stripped(cc)
    p = ftstap("-p3", "-e", f'probe process("{prog}").function("main") {{ i = 1; println(user_string($argv[i])) }}')
    assert p.returncode != 0
    assert "must be a number literal" in p.stderr
