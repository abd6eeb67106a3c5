"""Script fuzzing: mutated scripts through passes 1-3 in one process.

Each case is a seed script with 1-4 token-level mutations (delete, duplicate,
swap, insert an operator/keyword/extreme number/format, replace a number by
an extreme one, repeat a span into a long flat chain), chosen by
random.Random(seed * 1_000_003 + index): the same seed and index always give
the same script.  Every case must end in a pass-1..3 result or an FtstapError
that names a place (file:line:col); anything else (another exception, a
RecursionError, an ImageError from pass 3) is a finding, printed with the
case's seed and index so that `--case SEED:INDEX` replays it.

Seeds are the scripts below, plus, with --corpus DIR, the .stp files under DIR
read at run time (SystemTap's testsuite in ../shared/conformance; never
copied into this repository).

    python -m bench.scriptfuzz -n 10000 --seed 1 [--corpus DIR]
    python -m bench.scriptfuzz --case 1:4711 --show
"""
from __future__ import annotations

import glob
import os
import random
import re
import sys
import time

SEEDS = [
    'global n, s, a[100]\nprobe begin { n = 1 + 2 * 3 - 4; s = "x" . sprint(n); a[n, s] = 5; exit() }\n',
    'global h\nprobe timer.ms(10).randomize(2) { h <<< 3 }\n'
    'probe end { print(@hist_linear(h, 0, 100, 10)); print(@hist_log(h)); printf("%d %d\\n", @count(h), @max(h)) }\n',
    'function f:long (x:long, y) { if (x > y) return x; else return y }\n'
    'probe begin { printf("%5d|%-8s|%x|%.3s\\n", f(3, 4), "ab", 255, "abcdef"); exit() }\n',
    'global c\nprobe syscall.openat { c[execname(), pid()]++ }\n'
    'probe timer.s(1) { foreach ([e, p] in c- limit 5) printf("%s %d %d\\n", e, p, c[e, p]); delete c; exit() }\n',
    '@define twice(x) %( (@x) * 2 %)\nprobe begin { %( kernel_v >= "2.6" %? x = @twice(21) %: x = 0 %) println(x); exit() }\n',
    'probe begin { try { error("boom") } catch (msg) { println(msg) } i = 0; while (i < 10) { i++; if (i % 2) continue; '
    'println(i) } for (j = 0; j < 3; j++) next_; exit() }\nfunction next_() { }\n',
    'global arr\nprobe begin { arr["a"] = 1; arr["b"] = 2; foreach (k in arr+) println(k, arr[k]); '
    'if (["a"] in arr) delete arr["a"]; x = "a" in arr ? 1 : 0; println(x); exit() }\n',
    'probe begin { s = "abc"; printf("%s %d %d\\n", substr(s, 1, 1), strlen(s), isinstr(s, "b")); '
    'x = (1 << 3) | (12 & 5) ^ ~0; y = !x && x || -x; z = s =~ "a.c"; println(x, y, z); exit() }\n',
    'global t\nprobe scheduler.ctxswitch { t[next_pid] = gettimeofday_ns() } probe timer.ms(100) { exit() }\n',
    'probe kernel.function("sys_sync") { printf("%s\\n", execname()) }\nprobe timer.hz(10) { exit() }\n',
    'global s\nprobe begin { for (i = 0; i < 100; i++) s <<< i; printf("%d %d %d\\n", @sum(s), @min(s), '
    '@avg(s)); foreach (b in @hist_linear(s, 0, 50, 5)) println(b); exit() }\n',
    'probe netdev.receive { printf("%s %d\\n", dev_name, length) } probe timer.s(1) { exit() }\n',
]

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|%[(?:){}]|[A-Za-z_$@][A-Za-z0-9_$]*|0[xX][0-9a-fA-F]+|\d+'
                   r'|<<<|>>>|<<=|>>=|->|[-+*/%<>=!&|^.]=|&&|\|\||\+\+|--|<<|>>|=~|!~|\S|\s+')
EXTREMES = ["0", "-1", "1", "255", "256", "65536", "9999999999", "9223372036854775807",
            "9223372036854775808", "18446744073709551615", "18446744073709551616", "1000000000", "-5"]
WORDS = ["probe", "function", "global", "private", "foreach", "in", "limit", "try", "catch", "if", "else",
         "while", "for", "return", "next", "break", "continue", "delete", "%(", "%?", "%:", "%)", "$1", "@1",
         "$#", "@define", "@hist_log", "@hist_linear", "@count", "@cast", "@entry", "@defined", "->", "<<<",
         "=~", "?", ":", "(", ")", "{", "}", "[", "]", ",", ";", "+", "-", "*", "/", "%", ".", "=", "==",
         "&&", "||", "!", "~", "++", "--", "<<", ">>>", "timer.ms", "begin", "end", "exit()", "$var",
         '"%1000000000d"', '"%*.*s"', '"%-+ #05d"', '"%b%c%p%M"', '"%"', '"\\x41\\n"', "printf", "sprintf",
         "println", "print", "sprint", "printd", "kernel_v", "long", "string", "timer.s(-1)", "%{ %}"]


def corpus_seeds(directory: str | None, max_bytes: int = 8192) -> list[str]:
    if not directory:
        return []
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.stp"), recursive=True)):
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) <= max_bytes:
            out.append(data.decode("utf-8", "replace"))
    return out


def mutate(rng: random.Random, text: str) -> str:
    toks = TOKEN.findall(text) or [""]
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(toks))
        j = min(len(toks), i + rng.randint(1, 8))
        kind = rng.randrange(8)
        if kind == 0:
            del toks[i:j]
        elif kind == 1:
            toks[j:j] = toks[i:j]
        elif kind == 2:
            k = rng.randrange(len(toks))
            toks[i], toks[k] = toks[k], toks[i]
        elif kind == 3:
            toks.insert(i, " " + rng.choice(WORDS) + " ")
        elif kind == 4:
            nums = [k for k, t in enumerate(toks) if t[:1].isdigit()]
            if nums:
                toks[rng.choice(nums)] = rng.choice(EXTREMES)
        elif kind == 5:     # a long flat chain or a deep nest
            n = rng.choice([50, 600, 3000])
            toks.insert(i, rng.choice([" 1" + " +1" * n + " ", "(" * (n // 10), "%( 1 == 1 %? " * (n // 10),
                                       " 1 . \"a\"" * n + " "]))
        elif kind == 6:
            toks.insert(i, rng.choice(toks))
        elif kind == 7 and toks:
            toks = toks[:rng.randrange(len(toks))] if rng.random() < 0.3 else toks
        if not toks:
            toks = [""]
    return "".join(toks)


def case(seed: int, index: int, seeds: list[str]) -> str:
    rng = random.Random(seed * 1_000_003 + index)
    return mutate(rng, rng.choice(seeds))


LOCATION = re.compile(r"\S+:\d+:\d+")
PLACELESS = ("no probes found",)    # stap's own message names no place either


class Frontend:
    """Passes 1-3 in process, with the tapset library parsed once."""

    def __init__(self, features):
        from ftstap.lang import frontend
        self.features = features
        self.tapsets = frontend.run_pass1(frontend.Source("<seed>", "probe begin { }"), []).tapsets

    def run(self, text: str) -> str | None:
        """None if the script went through or failed cleanly; else the finding."""
        from ftstap.compile.codegen import CodeGen
        from ftstap.compile.disasm import listing
        from ftstap.errors import FtstapError
        from ftstap.lang import frontend, printer
        from ftstap.sema.elaborate import run_pass2
        from ftstap.sema.listing import program_listing
        from ftstap.cli import RECURSION_LIMIT
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, RECURSION_LIMIT))     # as the command line compiles
        try:
            p1 = frontend.run_pass1(frontend.Source("fuzz.stp", text), ["7", "x y"], with_tapsets=False)
            printer.script(p1.script)
            program = run_pass2(p1.script, self.tapsets, self.features)
            program_listing(program)
            listing(CodeGen(program, self.features).build())
        except FtstapError as e:
            rendered = e.render()
            if not LOCATION.search(rendered) and not any(w in rendered for w in PLACELESS):
                return f"error without a place: {rendered.splitlines()[0]}"
        except Exception as e:    # noqa: BLE001 (RecursionError, ImageError and bugs alike)
            return f"{type(e).__name__}: {str(e)[:200]}"
        finally:
            sys.setrecursionlimit(old)
        return None


def campaign(n: int, seed: int, seeds: list[str], features, first: int = 0, progress=None):
    """Run cases first..first+n-1; returns [(index, finding)]."""
    fe = Frontend(features)
    findings = []
    for index in range(first, first + n):
        found = fe.run(case(seed, index, seeds))
        if found:
            findings.append((index, found))
        if progress and (index + 1) % 1000 == 0:
            progress(index + 1, len(findings))
    return findings


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m bench.scriptfuzz")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", default=None, help="also seed from the .stp files under DIR")
    ap.add_argument("--case", default=None, help="SEED:INDEX: run (and --show) one case")
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args(argv)
    from ftstap.kernel.features import KernelFeatures
    seeds = SEEDS + corpus_seeds(args.corpus)
    features = KernelFeatures.current()
    if args.case:
        s, i = (int(x) for x in args.case.split(":"))
        text = case(s, i, seeds)
        if args.show:
            print(text)
        print(Frontend(features).run(text) or "ok")
        return 0
    start = time.monotonic()
    findings = campaign(args.n, args.seed, seeds, features,
                        progress=lambda k, f: print(f"{k} cases, {f} findings", file=sys.stderr))
    for index, found in findings:
        print(f"{args.seed}:{index}  {found}")
    took = time.monotonic() - start
    print(f"{args.n} cases (seed {args.seed}, {len(seeds)} seed scripts) in {took:.0f} s: "
          f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
