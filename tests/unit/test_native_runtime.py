"""The C runtime data layer seen through ftstap._native: histograms and
printf produce exactly the text stap prints; arrays iterate like stap's."""
import os

import pytest

from ftstap._native import ffi, lib

BUF = 1 << 16


# ---- helpers -------------------------------------------------------------

def new_stat(kind=lib.FT_HIST_NONE, start=0, stop=0, interval=0, shift=0):
    cfg = ffi.new("ft_stat_cfg *")
    assert lib.ft_stat_cfg_init(cfg, kind, start, stop, interval, shift) == lib.FT_OK
    return ffi.gc(lib.ft_stat_new(cfg), lib.ft_stat_free)


def fill(st, values):
    for v in values:
        lib.ft_stat_add(st, v)
    return st


def hist_text(st, elision=lib.FT_HIST_ELISION):
    buf = ffi.new("char[]", BUF)
    n = lib.ft_stat_hist_sprint(st, elision, buf, BUF)
    text = ffi.string(buf).decode()
    assert n == len(text)
    return text


def agg(st, which):
    out = ffi.new("ft_i64 *")
    assert lib.ft_stat_get(st, which, out) == lib.FT_OK
    return out[0]


def row(label, bars, count, label_width=5, count_width=1):
    """One histogram line: label column, '|', a 50-wide bar, the count."""
    return f"{label:>{label_width}} |{'@' * bars:<50} {count:>{count_width}}\n"


def header(label_width=5):
    return f"{'value':>{label_width}} |{'-' * 50} count\n"


def tilde(label_width=5):
    return " " * (label_width + 1) + "~\n"


class Args:
    """ft_val argument array; keeps the string buffers alive."""

    def __init__(self, *values):
        self.keep = []
        self.arr = ffi.new("ft_val[]", max(1, len(values)))
        for i, v in enumerate(values):
            if isinstance(v, (str, bytes)):
                b = v.encode() if isinstance(v, str) else v
                cb = ffi.new("char[]", b)
                self.keep.append(cb)
                self.arr[i].s = cb
                self.arr[i].n = len(b)
            else:
                self.arr[i].i = v
        self.n = len(values)


def sprintf(fmt, *values, cap=BUF):
    f = lib.ft_fmt_parse(fmt.encode(), ffi.NULL)
    assert f != ffi.NULL, fmt
    try:
        a = Args(*values)
        assert lib.ft_fmt_nargs(f) == a.n
        buf = ffi.new("char[]", cap)
        n = lib.ft_fmt_sprint(f, a.arr, a.n, buf, cap)
        return ffi.unpack(buf, n)
    finally:
        lib.ft_fmt_free(f)


# ---- histograms ------------------------------------------------------------

def test_hist_log_of_1_to_1000():
    st = fill(new_stat(lib.FT_HIST_LOG), range(1, 1001))
    # counts per power-of-two bucket; 489 is the largest, so one '@' per 10
    expected = (header()
                + row(0, 0, 0, count_width=3)
                + row(1, 0, 1, count_width=3)
                + row(2, 0, 2, count_width=3)
                + row(4, 0, 4, count_width=3)
                + row(8, 0, 8, count_width=3)
                + row(16, 1, 16, count_width=3)
                + row(32, 3, 32, count_width=3)
                + row(64, 6, 64, count_width=3)
                + row(128, 12, 128, count_width=3)
                + row(256, 25, 256, count_width=3)
                + row(512, 48, 489, count_width=3)
                + row(1024, 0, 0, count_width=3)
                + row(2048, 0, 0, count_width=3)
                + "\n")
    assert hist_text(st) == expected


def test_hist_log_header_line_is_stap_format():
    st = fill(new_stat(lib.FT_HIST_LOG), [7])
    first = hist_text(st).splitlines()[0]
    assert first == "value |-------------------------------------------------- count"


def test_hist_linear_0_100_10():
    st = fill(new_stat(lib.FT_HIST_LINEAR, 0, 100, 10), list(range(100)) + [100])
    expected = header(), *(row(v, 10, 10, count_width=2) for v in range(0, 100, 10))
    expected = "".join(expected) + row(100, 1, 1, count_width=2) + "\n"
    assert hist_text(st) == expected


def test_hist_linear_elision_and_under_overflow():
    values = [5] * 3 + [15] + [47] * 7 + [199] * 2 + [200, 250, -3]
    st = fill(new_stat(lib.FT_HIST_LINEAR, 0, 200, 10), values)
    expected = (header()
                + row("<0", 1, 1) + row(0, 3, 3) + row(10, 1, 1)
                + row(20, 0, 0) + row(30, 0, 0) + row(40, 7, 7)
                + row(50, 0, 0) + row(60, 0, 0)
                + tilde()                       # 70..160 are all empty
                + row(170, 0, 0) + row(180, 0, 0)
                + row(190, 2, 2) + row(200, 1, 1) + row(">200", 1, 1)
                + "\n")
    assert hist_text(st) == expected
    # HIST_ELISION=-1 keeps every bucket of the range
    assert "~" not in hist_text(st, -1)
    assert hist_text(st, -1).count("\n") == 2 + 23


def test_hist_negative_values_widen_the_label_column():
    st = fill(new_stat(lib.FT_HIST_LOG), [-4096, -2])
    expected = (header(6)
                + row(-16384, 0, 0, 6) + row(-8192, 0, 0, 6) + row(-4096, 1, 1, 6)
                + row(-2048, 0, 0, 6) + row(-1024, 0, 0, 6)
                + tilde(6)
                + row(-8, 0, 0, 6) + row(-4, 0, 0, 6) + row(-2, 1, 1, 6)
                + row(-1, 0, 0, 6) + row(0, 0, 0, 6)
                + "\n")
    assert hist_text(st) == expected


def test_hist_extreme_log_buckets():
    st = fill(new_stat(lib.FT_HIST_LOG), [-(1 << 63), (1 << 63) - 1])
    text = hist_text(st, -1)
    lines = text.splitlines()
    assert lines[1] == row(-(1 << 63), 1, 1, 20).rstrip("\n")
    assert lines[-2] == row(1 << 62, 1, 1, 20).rstrip("\n")
    assert lines[-1] == ""
    assert len(lines) == 1 + 128 + 1


def test_hist_bucket_indexing():
    st = fill(new_stat(lib.FT_HIST_LOG), [0, 1, 2, 3, -1])
    assert lib.ft_stat_hist_nbuckets(st) == 128
    got = {i: lib.ft_stat_hist_bucket(st, i) for i in range(128) if lib.ft_stat_hist_bucket(st, i)}
    assert got == {63: 1, 64: 1, 65: 1, 66: 2}


@pytest.mark.parametrize("start,stop,interval,err", [
    (0, 100, 0, lib.FT_EZEROINT),
    (0, 1500, 2, lib.FT_EBUCKETS),
    (0, 1500, -1, lib.FT_EBUCKETS),
])
def test_hist_linear_bad_bounds(start, stop, interval, err):
    cfg = ffi.new("ft_stat_cfg *")
    assert lib.ft_stat_cfg_init(cfg, lib.FT_HIST_LINEAR, start, stop, interval, 0) == err


# ---- statistics ------------------------------------------------------------

def test_stat_extractors_and_variance():
    st = fill(new_stat(), [k * m for k in range(100) for m in (1, 2, 3)])
    assert agg(st, lib.FT_AGG_COUNT) == 300
    assert agg(st, lib.FT_AGG_SUM) == 29700
    assert agg(st, lib.FT_AGG_MIN) == 0
    assert agg(st, lib.FT_AGG_MAX) == 297
    assert agg(st, lib.FT_AGG_AVG) == 99
    assert agg(fill(new_stat(), range(1, 6)), lib.FT_AGG_VARIANCE) == 12
    assert agg(fill(new_stat(shift=1), range(1, 6)), lib.FT_AGG_VARIANCE) == 2
    assert agg(fill(new_stat(shift=7), [444, 999]), lib.FT_AGG_VARIANCE) == 154012
    assert agg(fill(new_stat(), [-7, 2]), lib.FT_AGG_AVG) == -2     # truncates toward 0


def test_empty_stat_reports_empty_aggregate():
    st = new_stat()
    out = ffi.new("ft_i64 *")
    assert agg(st, lib.FT_AGG_COUNT) == 0
    assert agg(st, lib.FT_AGG_SUM) == 0
    for which in (lib.FT_AGG_MIN, lib.FT_AGG_MAX, lib.FT_AGG_AVG, lib.FT_AGG_VARIANCE):
        assert lib.ft_stat_get(st, which, out) == lib.FT_EEMPTY


# ---- printf ------------------------------------------------------------------

def test_printf_mixed_conversions():
    got = sprintf("%-10s|%5d|%#x|%b\n", "hello", 42, 255, 0x41)
    assert got == b"hello     |   42|0xff|A\0\0\0\0\0\0\0\n"


@pytest.mark.parametrize("fmt,args,want", [
    ("%d,%2d,%016d", (-1024, 1, -1), "-1024, 1,-000000000000001"),
    ("%u", (-1,), "18446744073709551615"),
    ("%x %X %#o", (9000000000000, 255, 8), "82f79cd9000 FF 010"),
    ("%p|%20p|%-20p|%8p", (0x12345678, 1, 1, 1),
     "0x0000000012345678|  0x0000000000000001|0x000000000000000001|0x000001"),
    ("%c%c%#c%#c", (115, 116, 10, 0o222), "st\\n\\222"),
    ("%5s|%-5s|%.2s|%*d|%-*d|%.*s", ("ab", "ab", "abc", 4, 7, 3, 7, 1, "xyz"),
     "   ab|ab   |ab|   7|7  |x"),
    ("Hello%%World", (), "Hello%World"),
    ("%.5m|%*.*M", ("abcdefgh", 8, 3, "abc"), "abcde|  616263"),
])
def test_printf_like_stap(fmt, args, want):
    assert sprintf(fmt, *args) == want.encode()


def test_printf_binary_widths():
    v = int.from_bytes(b"deadbeef", "little")
    assert sprintf("%b|%1b|%2b|%4b", v, v, v, v) == b"deadbeef|d|de|dead"
    assert sprintf("%4.2b|%.1b", v, v) == b"\0\0de|d"


def test_printf_rejects_bad_formats():
    off = ffi.new("ft_i64 *")
    assert lib.ft_fmt_parse(b"ok %y", off) == ffi.NULL
    assert off[0] == 3
    assert lib.ft_fmt_parse(b"100%", off) == ffi.NULL


def test_sprintf_truncates_to_maxstringlen():
    got = sprintf("%s%s", "a" * 400, "b" * 400, cap=lib.FT_MAXSTRINGLEN)
    assert got == b"a" * 400 + b"b" * (lib.FT_MAXSTRINGLEN - 1 - 400)


def test_sprint_of_integers():
    buf = ffi.new("char[]", 32)
    for v, want in [(12345678, b"12345678"), (0, b"0"), (-42, b"-42"), (0x42, b"66")]:
        assert lib.ft_fmt_int(v, buf) == len(want)
        assert ffi.string(buf) == want


# ---- output sink ---------------------------------------------------------------

def test_output_sink_buffers_and_flushes(tmp_path):
    path = tmp_path / "out.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        o = lib.ft_out_new(fd, 64)
        f = lib.ft_fmt_parse(b"%s=%d\n", ffi.NULL)
        for i in range(100):
            a = Args(f"k{i}", i * i)
            assert lib.ft_fmt_print(f, a.arr, a.n, o) == lib.FT_OK
            assert lib.ft_out_pending(o) <= 64
        lib.ft_fmt_free(f)
        st = fill(new_stat(lib.FT_HIST_LINEAR, 0, 0, 1), [0])
        assert lib.ft_out_hist(o, st, lib.FT_HIST_ELISION) == lib.FT_OK
        assert lib.ft_out_free(o) == lib.FT_OK
    finally:
        os.close(fd)
    text = path.read_text()
    assert text.startswith("k0=0\nk1=1\nk2=4\n")
    assert "k99=9801\n" + header() + row(0, 1, 1) + "\n" in text
    assert text.count("\n") == 100 + 3


# ---- associative arrays ----------------------------------------------------------

def int_keys(m):
    keys, i = [], lib.ft_map_first(m)
    while i >= 0:
        keys.append(lib.ft_map_key_int(m, i, 0))
        i = lib.ft_map_next(m, i)
    return keys


def new_map(keys="i", vtype=lib.FT_T_INT, cap=lib.FT_MAXMAPENTRIES, wrap=0, cfg=ffi.NULL):
    m = lib.ft_map_new(keys.encode(), vtype, cap, wrap, lib.FT_MAXSTRINGLEN, cfg)
    assert m != ffi.NULL
    return ffi.gc(m, lib.ft_map_free)


def put(m, key, value):
    a = Args(*key)
    i = lib.ft_map_insert(m, a.arr)
    if i >= 0:
        lib.ft_map_set_int(m, i, value)
    return i


def test_map_foreach_order_and_sorting():
    # the unsorted / sorted orders of stap's foreach_limit example array
    m = new_map()
    for k, v in [(9, 18), (1, 40), (8, 16), (2, 4), (7, 14), (3, 36), (6, 12), (5, 10),
                 (4, 8), (10, 20)]:
        put(m, (k,), v)
    assert int_keys(m) == [9, 1, 8, 2, 7, 3, 6, 5, 4, 10]
    assert lib.ft_map_sort(m, 0, 1, 0, 5) == lib.FT_OK
    assert int_keys(m)[:5] == [2, 4, 5, 6, 7]
    assert lib.ft_map_sort(m, 1, 1, 0, 5) == lib.FT_OK
    assert int_keys(m)[:5] == [1, 2, 3, 4, 5]


def test_map_overflow_and_wrap():
    m = new_map(cap=3)
    assert [put(m, (k,), k) >= 0 for k in range(3)] == [True] * 3
    assert put(m, (3,), 3) == lib.FT_EOVERFLOW
    w = new_map(cap=5, wrap=1)
    for k in range(10):
        assert put(w, (k,), k) >= 0
    assert int_keys(w) == [5, 6, 7, 8, 9]


def test_map_slices():
    m = new_map("is")
    for k in range(3):
        for s in ("a", "b"):
            put(m, (k, s), 1)
    pat = Args(0, "b")
    assert lib.ft_map_slice_exists(m, pat.arr, 0b01) == 1          # [*, "b"] in m
    assert lib.ft_map_slice_delete(m, pat.arr, 0b01) == 3          # delete m[*, "b"]
    assert lib.ft_map_slice_exists(m, pat.arr, 0b01) == 0
    assert lib.ft_map_size(m) == 3
