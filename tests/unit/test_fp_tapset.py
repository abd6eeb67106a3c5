"""stap's floatingpoint tapset (native/fpfuncs.c) through the command line:
doubles carried in a long, checked against Python's IEEE doubles."""
import math
import struct
import subprocess
import sys


def bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def lines(script: str) -> list[str]:
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", f"probe begin {{ {script} exit() }}"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def test_arithmetic_is_ieee_double():
    a, b = 2.5, 0.1
    out = lines(f'a = string_to_fp("{a}"); b = string_to_fp("{b}"); '
                "println(fp_add(a, b)); println(fp_sub(a, b)); println(fp_mul(a, b)); println(fp_div(a, b)); "
                "println(fp_sqrt(a)); println(fp_rem(a, b)); println(long_to_fp(-7)); "
                "println(fp32_to_fp64(0x3fc00000));")
    assert [int(x) for x in out] == [bits(a + b), bits(a - b), bits(a * b), bits(a / b), bits(math.sqrt(a)),
                                     bits(math.remainder(a, b)), bits(-7.0), bits(1.5)]


def test_comparisons_conversions_and_text():
    out = lines('a = string_to_fp("-2.5"); b = string_to_fp("3.5"); '
                'printf("%d%d%d %d%d\\n", fp_lt(a, b), fp_le(b, b), fp_eq(a, b), fp_lt(b, a), fp_eq(a, a)); '
                "printf(\"%d %d %d %d %d %d\\n\", fp_to_long(a, 0, 0), fp_to_long(b, 0, 0), fp_to_long(a, 1, 0), "
                "fp_to_long(a, 2, 0), fp_to_long(a, 3, 0), fp_to_long(a, 4, 0)); "
                "println(fp_to_string(b, 3)); println(fp_to_string(fp_div(long_to_fp(1), long_to_fp(3)), 5));")
    # nearest-even -2, 4; toward zero -2; down -3; up -2; ties away -3
    assert out == ["110 01", "-2 4 -2 -3 -2 -3", "3.500", "0.33333"]
