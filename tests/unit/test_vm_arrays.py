"""Arrays, foreach, statistics and histograms, and autoprinted globals."""
import pytest
from test_vm_asm import asm, begin, probe, run
from ftstap._native import ffi, lib
from ftstap.image.builder import ImageBuilder


def prog(text, globals_=(), locals_="", defines=None, **names):
    b = ImageBuilder()
    for g in globals_:
        b.add_global(*g[:3], **(g[3] if len(g) > 3 else {}))
    probe(b, "begin", text, locals_=locals_, **names)
    return run(b, defines)


def test_get_set_exists_delete():
    st, out, err = prog("""
        PUSHI 1
        PUSHS "x"
        PUSHI 10
        ASETI a 0 -
        PUSHI 1
        PUSHS "x"
        AGETI a
        PRINTI          # 10
        PUSHI 2
        PUSHS "x"
        AGETI a
        PRINTI          # 0: absent
        PUSHI 1
        PUSHS "x"
        AEXISTS a
        PRINTI          # 1
        PUSHI 1
        PUSHS "x"
        ADEL a
        PUSHI 1
        PUSHS "x"
        AEXISTS a
        PRINTI          # 0
        PUSHS "k"
        PUSHS "v"
        ASETS s 1 -
        PRINTS          # v (pushed back)
        PUSHS "k"
        AGETS s
        PUSHS "nope"
        AGETS s
        CONCAT
        PRINTS          # v
    """, [("a", "i", "is"), ("s", "s", "s")])
    assert (st, out, err) == (0, "10010vv", "")


def test_read_modify_write():
    st, out, err = prog("""
        PUSHI 7
        PUSHI 5
        AADDI a 1 -
        PRINTI          # 5
        PUSHI 7
        PUSHI 2
        AADDI a 1 -
        PRINTI          # 7
        PUSHI 7
        AREF a -
        DUPI
        EGETI a
        PUSHI 3
        MUL
        ESETI a 1
        PRINTI          # 21
        PUSHS "k"
        AREF s -
        DUPI
        EGETS s
        PUSHS "++"
        CONCAT
        ESETS s 1
        PRINTS          # ++
    """, [("a", "i", "i"), ("s", "s", "s")])
    assert (st, out, err) == (0, "5721++", "")


def test_wildcards_in_and_delete():
    fill = "\n".join(f'PUSHI {i}\nPUSHS "{s}"\nPUSHI 1\nASETI a 0 -' for i in (1, 2) for s in "xy")
    st, out, err = prog(fill + """
        PUSHS "y"
        AIN a 1         # [*, "y"] in a
        PRINTI
        PUSHI 3
        AIN a 2         # [3, *] in a
        PRINTI
        PUSHI 1
        ADELM a 2       # delete a[1, *]
        PUSHI 1
        PUSHS "x"
        AEXISTS a
        PUSHI 2
        PUSHS "x"
        AEXISTS a
        ADD
        PRINTI
        GCLR a
        PUSHS "y"
        AIN a 1
        PRINTI
    """, [("a", "i", "is")])
    assert out == "1010"


def test_array_overflow_and_wrap():
    st, out, err = prog("PUSHI 1\nPUSHI 1\nASETI a 0 -\nPUSHI 2\nPUSHI 1\nASETI a 0 -\nPUSHI 3\nPUSHI 1\nASETI a 0 -",
                        [("a", "i", "i", {"size": 2})])
    assert st == 1 and err.startswith("ERROR: Array overflow, check MAXMAPENTRIES\n")
    st, out, err = prog("PUSHI 1\nPUSHI 1\nASETI a 0 -\nPUSHI 2\nPUSHI 1\nASETI a 0 -\nPUSHI 3\nPUSHI 1\nASETI a 0 -\n"
                        "PUSHI 1\nAEXISTS a\nPUSHI 3\nAEXISTS a\nPRINTI\nPRINTI",
                        [("a", "i", "i", {"size": 2, "wrap": True})])
    assert (st, out) == (0, "10")


FOREACH_FILL = "\n".join(f'PUSHS "{k}"\nPUSHI {v}\nASETI a 0 -' for k, v in
                         [("a", 3), ("b", 9), ("c", 1), ("d", 7), ("e", 5)])


def foreach(column, direction, limit=None, agg=0):
    b = ImageBuilder()
    b.add_global("a", "i", "s")
    lim = f"PUSHI {limit}\n" if limit is not None else ""
    fb = probe(b, "begin", FOREACH_FILL + f"""
        {lim}FEBEGIN 0 a {column} {direction} {agg} {int(limit is not None)} 1
    top:
        FENEXT 0 done
        FEKEYS 0 a 0
        PRINTS
        PUSHS "="
        PRINTS
        FEVALI 0 a
        PRINTI
        PUSHS " "
        PRINTS
        JMP top
    done:
    """)
    fb.iterators(1)
    return run(b)[1]


def test_foreach_orders():
    assert foreach(0, 0) == "a=3 b=9 c=1 d=7 e=5 "          # insertion order
    assert foreach(0, 2, limit=3) == "b=9 d=7 e=5 "         # by value, descending, limit 3
    assert foreach(0, 1) == "c=1 a=3 e=5 d=7 b=9 "
    assert foreach(1, 2) == "e=5 d=7 c=1 b=9 a=3 "          # by key, descending
    assert foreach(0, 1, limit=0) == ""


def test_foreach_slice():
    b = ImageBuilder()
    b.add_global("a", "i", "is")
    fill = "\n".join(f'PUSHI {i}\nPUSHS "{s}"\nPUSHI {i * 10}\nASETI a 0 -' for i in (1, 2, 3) for s in "xy")
    fb = probe(b, "begin", fill + """
        PUSHS "y"
        FEBEGIN 0 a 1 2 0 0 1      # foreach ([i, s] in a[*, "y"]) sorted by key 1 descending
    top:
        FENEXT 0 done
        FEKEYI 0 a 0
        PRINTI
        FEKEYS 0 a 1
        PRINTS
        JMP top
    done:
    """)
    fb.iterators(1)
    assert run(b) == (0, "3y2y1y", "")


def stat_expected(values, kind=lib.FT_HIST_LOG, start=0, stop=0, interval=0):
    cfg = ffi.new("ft_stat_cfg *")
    lib.ft_stat_cfg_init(cfg, kind, start, stop, interval, 0)
    st = ffi.gc(lib.ft_stat_new(cfg), lib.ft_stat_free)
    for v in values:
        lib.ft_stat_add(st, v)
    buf = ffi.new("char[]", 1 << 16)
    lib.ft_stat_hist_sprint(st, 2, buf, 1 << 16)
    return ffi.string(buf).decode()


def test_stats_and_hist_log_of_1_to_1000():
    st, out, err = prog("""
        PUSHI 1
        STI l0
    top:
        LDI l0
        PUSHI 1000
        JGT done
        LDI l0
        STADD x
        INCLI l0 1
        JMP top
    done:
        STGET x @count -
        PRINTI
        PUSHS " "
        PRINTS
        STGET x @sum -
        PRINTI
        PUSHS " "
        PRINTS
        STGET x @min -
        PRINTI
        PUSHS " "
        PRINTS
        STGET x @max -
        PRINTI
        PUSHS " "
        PRINTS
        STGET x @avg -
        PRINTI
        PUSHS "\\n"
        PRINTS
        STHIST x -
        PUSHI 7
        STBKT x
        PRINTI
    """, [("x", "stat", "", {"hist": "log"})], locals_="i")
    assert err == ""
    head, hist = out.split("\n", 1)
    assert head == "1000 500500 1 1000 500"
    want = stat_expected(range(1, 1001))
    assert hist == want + str(0)      # bucket index 7 of the log histogram (64 + ...) is 0
    assert "value |-------------------------------------------------- count" in want
    assert [l for l in want.splitlines() if l.startswith("  512 |@")][0].endswith(" 489")


def test_empty_aggregate_error_and_stat_arrays():
    st, out, err = prog("STGET x @avg -\nPRINTI", [("x", "stat", "")])
    assert st == 1 and err.startswith("ERROR: empty aggregate\n")
    st, out, err = prog('PUSHS "k"\nPUSHI 4\nASTADD s -\nPUSHS "k"\nPUSHI 6\nASTADD s -\n'
                        'PUSHS "k"\nASTGET s @avg -\nPRINTI\nPUSHS "none"\nASTGET s @count -\nPRINTI',
                        [("s", "stat", "s")])
    assert (st, out) == (0, "50")


def test_autoprint_formats():
    b = ImageBuilder()
    b.add_global("x", "i", autoprint=True)
    b.add_global("s", "s", autoprint=True)
    b.add_global("a", "i", "is", autoprint=True)
    b.add_global("t", "stat", autoprint=True)
    b.add_global("e", "stat", autoprint=True)
    b.add_global("quiet", "i")
    probe(b, "begin", """
        PUSHI 5
        STGI x
        PUSHS "a\\tb"
        STGS s
        PUSHI 1
        PUSHS "one"
        PUSHI 3
        ASETI a 0 -
        PUSHI 2
        PUSHS "two"
        PUSHI 30
        ASETI a 0 -
        PUSHI 4
        STADD t
        PUSHI 8
        STADD t
        PUSHI 1
        STGI quiet
    """)
    probe(b, "end", 'PUSHS "end\\n"\nPRINTS')
    st, out, err = run(b)
    assert out == ('end\nx=5\ns="a\\tb"\na[2,"two"]=30\na[1,"one"]=3\n'
                   't @count=2 @min=4 @max=8 @sum=12 @avg=6\ne @count=0x0\n')


def _stat_state(st):
    """Every aggregate and bucket of a statistic (errors as None)."""
    out = []
    v = ffi.new("ft_i64 *")
    for agg in range(lib.FT_AGG_COUNT, lib.FT_AGG_VARIANCE + 1):
        out.append(v[0] if lib.ft_stat_get(st, agg, v) == 0 else None)
    return out + [lib.ft_stat_hist_bucket(st, i) for i in range(lib.ft_stat_hist_nbuckets(st))]


@pytest.mark.parametrize("kind, shift", [(lib.FT_HIST_NONE, 0), (lib.FT_HIST_LOG, 0),
                                         (lib.FT_HIST_LINEAR, 0), (lib.FT_HIST_NONE, 8)])
@pytest.mark.parametrize("before, v, n", [
    ((), 1, 1), ((), 1, 100000), ((), -7, 5), ((), 3, 0),
    ((1000, 2, -50), 3, 5000),            # the running mean moves one add at a time, then stops
    ((1 << 40,), 1, 3000), ((5,), 5, 10), ((0, 0), -(1 << 62), 20000),
])
def test_stat_add_n_is_n_adds(kind, shift, before, v, n):
    """ft_stat_add_n (counting mode's STADDN/ASTADDN) leaves a statistic --
    standalone or an array element, whose @variance differ -- exactly as n
    calls of ft_stat_add do, truncating Welford update and all."""
    cfg = ffi.new("ft_stat_cfg *")
    assert lib.ft_stat_cfg_init(cfg, kind, -10, 100, 10, shift) == 0
    key = ffi.new("ft_val[1]")
    states = []
    for bulk in (True, False):
        st = ffi.gc(lib.ft_stat_new(cfg), lib.ft_stat_free)
        m = ffi.gc(lib.ft_map_new(b"i", lib.FT_T_STAT, 10, 0, 64, cfg), lib.ft_map_free)
        elem = lib.ft_map_get_stat(m, lib.ft_map_insert(m, key))
        for s in (st, elem):
            for b in before:
                lib.ft_stat_add(s, b)
            if bulk:
                lib.ft_stat_add_n(s, v, n)
            else:
                for _ in range(n):
                    lib.ft_stat_add(s, v)
        states.append((_stat_state(st), _stat_state(elem)))
    assert states[0] == states[1]


def test_staddn_opcodes():
    st, out, err = prog("""
        PUSHI 3
        PUSHI 4
        STADDN x
        PUSHS "k"
        PUSHI 5
        PUSHI 2
        ASTADDN s -
        PUSHS "none"
        PUSHI 5
        PUSHI 0
        ASTADDN s -
        STGET x @sum -
        PRINTI
        PUSHS "k"
        ASTGET s @sum -
        PRINTI
        PUSHS "none"
        AEXISTS s
        PRINTI          # 0: adding no copies inserts no key
    """, [("x", "stat", ""), ("s", "stat", "s")])
    assert (st, out, err) == (0, "12100", "")
