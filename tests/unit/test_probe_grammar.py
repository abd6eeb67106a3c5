"""Providers match probe points from their one declared grammar
(ftstap/probes/grammar.py): every declared pattern matches, nothing else
does, and the binding the providers read is right."""
import pytest

from ftstap.lang import ast as A
from ftstap.probes import REGISTRY
from ftstap.probes.grammar import Grammar, expand

from sema_support import elaborate, error_of, make_snapshot  # noqa: F401
from test_sema_kprobes import KALLSYMS


def comps(*parts):
    """("kernel", None), ("function", "f") -> components."""
    out = []
    for name, arg in parts:
        node = None if arg is None else (A.String(arg) if isinstance(arg, str) else A.Number(arg))
        out.append(A.Component(name, node))
    return tuple(out)


def _example(seq):
    return comps(*[(name if not name.isupper() else "read",
                    None if types is None else ("x" if str in types else 1)) for name, types in seq])


def test_expand():
    assert expand("kernel.function(string)[.call|.return]") == [
        (("kernel", None), ("function", (str,))),
        (("kernel", None), ("function", (str,)), ("call", None)),
        (("kernel", None), ("function", (str,)), ("return", None))]
    assert expand("syscall.NAME[.return]  (a note)")[1] == (("syscall", None), ("NAME", None), ("return", None))
    assert expand("process(string|number).mark(string)") == [(("process", (str, int)), ("mark", (str,)))]


def test_every_declared_pattern_matches_itself():
    for provider in REGISTRY:
        for pattern in provider.patterns:
            for seq in expand(pattern):
                m = provider.grammar.match(_example(seq))
                assert m is not None and not m.wrong and not m.refused, (pattern, seq)
                assert seq[0][0] in provider.families


def test_bindings_and_wrong_arguments():
    g = Grammar(("module(string).function(string)[.call|.return]", "begin", "begin(number)"))
    m = g.match(comps(("module", "ext4"), ("function", "f*"), ("return", None)))
    assert (m["module"], m["function"], "return" in m, "call" in m) == ("ext4", "f*", True, False)
    assert g.match(comps(("begin", None))).pattern == "begin"
    bad = g.match(comps(("begin", "x")))
    assert bad.pattern == "begin(number)" and bad.wrong[0].name == "begin"
    assert g.match(comps(("module", "m"), ("function", 3))).wrong
    assert g.match(comps(("module", "m"), ("function", "f"), ("bogus", None))) is None
    assert g.families == ("module", "begin")


def test_refused_shapes_carry_their_message():
    g = Grammar(("timer.hz(number)",), refused={"timer.hz(number).randomize(number)": "no"})
    assert g.match(comps(("timer", None), ("hz", 5), ("randomize", 2))).refused == "no"
    assert g.match(comps(("timer", None), ("hz", 5))).refused is None


@pytest.fixture
def kfeatures(tmp_path):
    snap = tmp_path / "snap"
    make_snapshot(snap, kprobes=True)
    (snap / "kallsyms").write_text(KALLSYMS + "ffffffff81396000 t ext4_file_open\t[ext4]\n")
    from ftstap.kernel.features import KernelFeatures
    return KernelFeatures.from_snapshot(str(snap))


def test_module_function_binds(kfeatures):
    # _shape looked for "function" one component too far and matched no module(...) probe
    p = elaborate('probe module("ext4").function("ext4_file_open").return { }', kfeatures)
    assert p.probes[0].source.target.symbol == "ext4_file_open" and p.probes[0].source.is_return


def test_module_probes_name_the_module_and_only_its_functions(kfeatures, tmp_path):
    p = elaborate('probe module("ext*").function("*_open") { }', kfeatures)
    assert [i.source.target.symbol for i in p.probes] == ["ext4_file_open"]       # not vfs_open
    assert "module(\"ext3\") is not loaded" in str(error_of('probe module("ext3").function("f") { }', kfeatures))
    assert "is not loaded" in str(error_of('probe module("ext3").function("vfs_read") { }', kfeatures))
    bare = make_snapshot(tmp_path / "nomods", kprobes=True)
    (tmp_path / "nomods" / "kallsyms").write_text(KALLSYMS)
    assert "lists no module symbols" in str(error_of('probe module("ext4").function("*") { }', bare))


@pytest.mark.parametrize("point", ['kernel.statement("vfs_read").return',          # was a function return probe
                                   'kernel.function("vfs_read").maxactive(3)',    # was ignored
                                   'kernel.function("vfs_read").return.maxactive("x")',
                                   'kprobe("x").function("vfs_read")',
                                   'process("/bin/true").mark("m").return'])
def test_shapes_outside_the_grammar_are_mismatches(kfeatures, point):
    assert "probe point mismatch" in str(error_of(f"probe {point} {{ }}", kfeatures))


def test_a_wildcard_in_a_fixed_name_is_every_probe_point_it_names():
    g = Grammar(("kernel.function(string)[.call|.return|.return.maxactive(number)]",))
    got = g.concrete(comps(("kerne*", None), ("funct*", "f"), ("*", None)))
    assert [[c.name for c in x] for x in got] == [["kernel", "function", "call"], ["kernel", "function", "return"]]
    assert got[0][1].arg.value == "f"                          # arguments kept
    got = g.concrete(comps(("kernel", None), ("function", "f"), ("return", None), ("maxact**", 10)))
    assert [[c.name for c in x] for x in got] == [["kernel", "function", "return", "maxactive"]]
    plain = comps(("kernel", None), ("function", "f*"))      # an argument's wildcard is the provider's
    assert g.concrete(plain) == [plain]


def test_syscall_return_maxactive_directly_through_an_alias_and_by_wildcard(tmp_path):
    feats = make_snapshot(tmp_path / "snap")
    for script in ('probe syscall.sync.return.maxactive(10) { println(1) }',
                   'probe a = syscall.sync.return { } probe a.maxactive(10) { println(pp()) }',
                   'probe syscall.sync.return.maxact*(10) { println(1) } probe syscall.sync.return.*(3) { }',
                   'probe kerne*.tra*("sched:sched_switch") { println(1) }'):
        p = elaborate(script, feats)
        assert p.probes, script
    assert "maxactive value out of range" in str(error_of("probe syscall.sync.return.maxactive(70000) { }", feats))
    assert "mismatch" in str(error_of("probe syscall.sync.maxactive(10) { }", feats))   # only after .return


def test_a_wildcard_family_is_every_family_it_names(tmp_path):
    """sys*.open: syscall.open, not an error from syscall_any (which has no .open)."""
    from ftstap.sema.probelist import list_probes
    feats = make_snapshot(tmp_path / "snap")
    assert list_probes("sys*.sync", feats, False) == ["syscall.sync"]
    assert list_probes("sys*.sync.return", feats, False) == ["syscall.sync.return"]
    assert "mismatch" in str(error_of("probe sys*.nosuch { }", feats))
