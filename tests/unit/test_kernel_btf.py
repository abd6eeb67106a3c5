"""The BTF reader on a small blob built here with struct.pack."""
import struct

import pytest

from ftstap.errors import KernelError
from ftstap.kernel import btf as B
from ftstap.kernel.btf import BTF, Step


class Builder:
    """Writes BTF the way btf.rst lays it out: header, types, strings."""

    def __init__(self, str_base: int = 0, endian: str = "<"):
        self.e = endian
        self.strs = bytearray(b"\0") if not str_base else bytearray()
        self.str_base = str_base
        self.types = bytearray()
        self.n = 0

    def s(self, name: str) -> int:
        if not name:
            return 0
        off = len(self.strs)
        self.strs += name.encode() + b"\0"
        return off + self.str_base

    def t(self, kind, name="", vlen=0, size_or_type=0, kflag=0, extra=b""):
        info = (kflag << 31) | (kind << 24) | vlen
        self.types += struct.pack(self.e + "III", self.s(name), info, size_or_type) + extra
        self.n += 1
        return self.n

    def u32(self, *vals):
        return struct.pack(self.e + "I" * len(vals), *vals)

    def blob(self) -> bytes:
        hdr = struct.pack(self.e + "HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(self.types),
                          len(self.types), len(self.strs))
        return hdr + bytes(self.types) + bytes(self.strs)


def build(endian="<"):
    b = Builder(endian=endian)
    ids = {}
    ids["int"] = b.t(B.INT, "int", size_or_type=4, extra=b.u32(B.INT_SIGNED << 24 | 32))
    ids["char"] = b.t(B.INT, "char", size_or_type=1, extra=b.u32((B.INT_SIGNED | B.INT_CHAR) << 24 | 8))
    ids["cchar"] = b.t(B.CONST, size_or_type=ids["char"])
    ids["pcchar"] = b.t(B.PTR, size_or_type=ids["cchar"])                       # const char *
    ids["ulong"] = b.t(B.INT, "long unsigned int", size_or_type=8, extra=b.u32(64))
    # struct inner { int a; int b; };
    ids["inner"] = b.t(B.STRUCT, "inner", 2, 8, extra=b.u32(b.s("a"), ids["int"], 0,
                                                              b.s("b"), ids["int"], 32))
    ids["pinner"] = b.t(B.PTR, size_or_type=ids["inner"])
    # anonymous union { long unsigned int u; char c; }
    ids["anon"] = b.t(B.UNION, "", 2, 8, extra=b.u32(b.s("u"), ids["ulong"], 0,
                                                    b.s("c"), ids["char"], 0))
    ids["arr"] = b.t(B.ARRAY, extra=b.u32(ids["char"], ids["int"], 16))        # char[16]
    ids["outer_fwd"] = b.t(B.FWD, "outer")
    ids["pfwd"] = b.t(B.PTR, size_or_type=ids["outer_fwd"])
    # struct outer (kflag: bitfield sizes in member offsets)
    #   int x @0; struct inner in @32; struct inner *next @128;
    #   union {...} @192; char name[16] @256; int flag:3 @384; int mode:5 @387;
    #   struct outer *self @448
    ids["outer"] = b.t(B.STRUCT, "outer", 8, 64, kflag=1, extra=b.u32(
        b.s("x"), ids["int"], 0,
        b.s("in"), ids["inner"], 32,
        b.s("next"), ids["pinner"], 128,
        0, ids["anon"], 192,
        b.s("name"), ids["arr"], 256,
        b.s("flag"), ids["int"], 3 << 24 | 384,
        b.s("mode"), ids["int"], 5 << 24 | 387,
        b.s("self"), ids["pfwd"], 448))
    ids["pouter"] = b.t(B.PTR, size_or_type=ids["outer"])
    ids["myint"] = b.t(B.TYPEDEF, "myint", size_or_type=ids["int"])
    ids["vmyint"] = b.t(B.VOLATILE, size_or_type=ids["myint"])
    # int myfunc(struct outer *o, const char *name, ...)
    ids["proto"] = b.t(B.FUNC_PROTO, "", 3, ids["int"], extra=b.u32(
        b.s("o"), ids["pouter"], b.s("name"), ids["pcchar"], 0, 0))
    ids["func"] = b.t(B.FUNC, "myfunc", 1, ids["proto"])                          # global linkage
    # int (*)(int)
    ids["cbproto"] = b.t(B.FUNC_PROTO, "", 1, ids["int"], extra=b.u32(0, ids["int"]))
    ids["pcb"] = b.t(B.PTR, size_or_type=ids["cbproto"])
    ids["constp"] = b.t(B.CONST, size_or_type=ids["pcchar"])                      # const char *const
    ids["enum"] = b.t(B.ENUM, "color", 2, 4, kflag=1, extra=b.u32(b.s("RED"), 0, b.s("NEG"), 0xFFFFFFFF))
    ids["enum64"] = b.t(B.ENUM64, "big", 1, 8, extra=b.u32(b.s("HUGE"), 1, 2))
    ids["float"] = b.t(B.FLOAT, "double", size_or_type=8)
    ids["var"] = b.t(B.VAR, "counter", size_or_type=ids["int"], extra=b.u32(1))
    ids["sec"] = b.t(B.DATASEC, ".data", 1, 4, extra=b.u32(ids["var"], 0, 4))
    ids["tag"] = b.t(B.DECL_TAG, "user", size_or_type=ids["func"], extra=b.u32(0xFFFFFFFF))
    ids["ttag"] = b.t(B.TYPE_TAG, "user", size_or_type=ids["char"])
    ids["pttag"] = b.t(B.PTR, size_or_type=ids["ttag"])                          # char __user *
    ids["restrict"] = b.t(B.RESTRICT, size_or_type=ids["pinner"])
    ids["arr2"] = b.t(B.ARRAY, extra=b.u32(ids["arr"], ids["int"], 2))           # char[2][16]
    ids["dup"] = b.t(B.STRUCT, "myfunc", 0, 0)                                   # same name, other kind
    return b, ids


@pytest.fixture(scope="module")
def btf():
    b, ids = build()
    return BTF(b.blob()), ids


def test_counts_and_kinds(btf):
    t, ids = btf
    assert t.count == len(ids) + 1
    assert t.type(0).name == "void"
    assert t.type(ids["outer"]).kind_name == "STRUCT"
    assert t.type(ids["int"]).extra == (B.INT_SIGNED, 0, 32)
    assert t.type(ids["arr"]).extra == (ids["char"], ids["int"], 16)
    assert t.type(ids["enum"]).extra == (("RED", 0), ("NEG", -1))
    assert t.type(ids["enum64"]).extra == (("HUGE", (2 << 32) | 1),)
    assert t.type(ids["sec"]).extra == ((ids["var"], 0, 4),)
    with pytest.raises(KernelError, match="out of range"):
        t.type(t.count)


def test_find_by_name(btf):
    t, ids = btf
    assert t.find("myfunc") == [ids["func"], ids["dup"]]
    assert t.find("myfunc", B.FUNC) == [ids["func"]]
    assert t.find("user") == [ids["tag"], ids["ttag"]]
    assert t.find("a") == []                 # member names are not types
    # many lookups build the name index: the same answers
    for _ in range(t.INDEX_AFTER + 1):
        t.find("nothing")
    assert t._names is not None
    assert t.find("myfunc") == [ids["func"], ids["dup"]] and t.find("myfunc", B.FUNC) == [ids["func"]]
    assert t.find("user") == [ids["tag"], ids["ttag"]] and t.find("a") == []
    assert t.find("nosuch") == []
    assert t.find_one("outer", B.STRUCT) == ids["outer"]
    assert t.find_one("outer", B.FWD) == ids["outer_fwd"]
    assert t.glob("my*") == ["myfunc"]
    assert t.glob("*", B.TYPEDEF) == ["myint"]
    assert t.find("myint") == [ids["myint"]]  # through the name index built by glob


def test_func_params(btf):
    t, ids = btf
    ps = t.func_params("myfunc")
    assert [(p.name, p.type, p.ctype) for p in ps] == [
        ("o", ids["pouter"], "struct outer *"), ("name", ids["pcchar"], "const char *")]
    assert t.func_return("myfunc") == ids["int"]
    assert t.describe(ids["func"]) == "int myfunc(struct outer *o, const char *name, ...)"
    with pytest.raises(KernelError, match="not in the kernel's BTF"):
        t.func("nosuch")


@pytest.mark.parametrize("key, text", [
    ("pcchar", "const char *"), ("constp", "const char *const"), ("arr", "char[16]"),
    ("arr2", "char[2][16]"), ("pcb", "int (*)(int)"), ("vmyint", "volatile myint"),
    ("pttag", "char *"), ("restrict", "struct inner *restrict"), ("enum", "enum color"),
    ("enum64", "enum big"), ("outer_fwd", "struct outer"), ("anon", "union (anon)"),
    ("float", "double"), ("var", "int counter"), ("cbproto", "int (int)"),
])
def test_describe(btf, key, text):
    t, ids = btf
    assert t.describe(ids[key]) == text


def test_sizes_and_resolution(btf):
    t, ids = btf
    assert t.pointer_size == 8
    assert [t.size(ids[k]) for k in ("int", "pcchar", "outer", "arr", "arr2", "vmyint", "func")] == \
        [4, 8, 64, 16, 32, 4, 0]
    assert t.resolve(ids["vmyint"]) == ids["int"]
    assert t.int_info(ids["vmyint"]) == (4, True)
    assert t.int_info(ids["ulong"]) == (8, False)
    assert t.int_info(ids["enum"]) == (4, True)
    assert t.int_info(ids["pcchar"]) == (8, False)
    assert t.int_info(ids["outer"]) is None


def test_members(btf):
    t, ids = btf
    names = [m.name for m in t.members(ids["outer"])]
    assert names == ["x", "in", "next", "", "name", "flag", "mode", "self"]
    assert t.member(ids["outer"], "u").bit_offset == 192          # through the anonymous union
    assert t.member(ids["outer"], "mode") == B.Member("mode", ids["int"], 387, 5)
    assert t.member(ids["outer"], "zz") is None
    with pytest.raises(KernelError, match="not a struct"):
        t.members(ids["int"])


def test_member_chain(btf):
    t, ids = btf
    c = t.member_chain(ids["pouter"], ["in", "b"])          # embedded struct: one object
    assert (c.offset, c.type, c.steps) == (8, ids["int"], (Step(True, 4), Step(False, 4)))
    assert c.fetch_expr("%di") == "+8(%di)"
    c = t.member_chain(ids["pouter"], ["next", "b"])        # through a pointer: two loads
    assert (c.offset, c.type, c.steps) == (4, ids["int"], (Step(True, 16), Step(True, 4)))
    assert c.fetch_expr("%di") == "+4(+16(%di))"
    c = t.member_chain(ids["pouter"], ["c"])                # anonymous union member
    assert (c.offset, c.type) == (24, ids["char"])
    c = t.member_chain(ids["pouter"], ["mode"])
    assert (c.offset, c.bit_offset, c.bitfield_size) == (48, 3, 5)
    c = t.member_chain(ids["outer"], ["in", "a"])           # a struct value, not a pointer
    assert c.steps == (Step(False, 4), Step(False, 0)) and c.offset == 4
    c = t.member_chain(ids["restrict"], ["b"])              # qualifiers are looked through
    assert c.fetch_expr("%si") == "+4(%si)"
    with pytest.raises(KernelError, match="has no member 'zz'.*members: x, in"):
        t.member_chain(ids["pouter"], ["zz"])
    with pytest.raises(KernelError, match="not a struct, union or pointer"):
        t.member_chain(ids["pouter"], ["x", "y"])
    with pytest.raises(KernelError, match="not a struct"):  # a forward declaration has no members
        t.member_chain(ids["pouter"], ["self", "x"])


def test_member_chain_indexes(btf):
    t, ids = btf
    c = t.member_chain(ids["pouter"], ["name", 3])          # char name[16] at 32: same object
    assert (c.offset, c.type, c.fetch_expr("%di")) == (35, ids["char"], "+35(%di)")
    c = t.member_chain(ids["pouter"], ["next", -1])         # a pointer indexed: load, then step
    assert (c.type, c.fetch_expr("%di")) == (ids["inner"], "-8(+16(%di))")
    c = t.member_chain(ids["pouter"], [2, "in", "b"])       # o[2].in.b: 2 * sizeof(struct outer) + 8
    assert c.fetch_expr("%di") == "+136(%di)"
    with pytest.raises(KernelError, match="cannot index int"):
        t.member_chain(ids["pouter"], ["x", 0])


def test_pointer_to(btf):
    t, ids = btf
    assert t.pointer_to(ids["inner"]) == ids["pinner"]
    assert t.pointer_to(ids["cchar"]) == ids["pcchar"]
    assert t.pointer_to(ids["ulong"]) is None


def test_big_endian_blob():
    b, ids = build(">")
    t = BTF(b.blob())
    assert t.func_params("myfunc")[1].ctype == "const char *"
    assert t.member_chain(ids["pouter"], ["next", "b"]).fetch_expr("%di") == "+4(+16(%di))"


def test_split_btf_continues_base():
    base_b, base_ids = build()
    base = BTF(base_b.blob())
    m = Builder(str_base=len(base_b.strs))
    m.strs += b"\0"     # string offset base+0 is the split blob's empty string
    # ids continue after the base's: a struct of the base referenced from the split part
    pid = m.t(B.PTR, size_or_type=base_ids["outer"])
    proto = m.t(B.FUNC_PROTO, "", 1, base_ids["int"], extra=m.u32(m.s("p"), base.count))
    m.t(B.FUNC, "mod_func", 1, base.count + 1)
    split = BTF(m.blob(), base=base)
    assert split.count == base.count + 3 and pid == 1 and proto == 2
    assert split.type(base_ids["int"]).name == "int"
    assert split.describe(split.func("mod_func").id) == "int mod_func(struct outer *p)"
    assert split.find("myfunc", B.FUNC) == [base_ids["func"]]


def _module_blob(base_b, base_ids, base_count, struct_name, member):
    """A module's split BTF: struct STRUCT_NAME { int MEMBER; struct outer *o; }
    and `void fn_STRUCT_NAME(struct STRUCT_NAME *p)`."""
    m = Builder(str_base=len(base_b.strs))
    m.strs += b"\0"
    pouter = m.t(B.PTR, size_or_type=base_ids["outer"])
    st = m.t(B.STRUCT, struct_name, 2, 16, extra=m.u32(m.s(member), base_ids["int"], 0,
                                                     m.s("o"), base_count + pouter - 1, 64))
    pst = m.t(B.PTR, size_or_type=base_count + st - 1)
    proto = m.t(B.FUNC_PROTO, "", 1, 0, extra=m.u32(m.s("p"), base_count + pst - 1))
    m.t(B.FUNC, "fn_" + struct_name, 1, base_count + proto - 1)
    return m.blob()


def test_modules_split_from_one_base_get_their_own_ids():
    """Two modules both number their types from the base's count; split()
    moves the second past the first, and the base reader walks either."""
    base_b, base_ids = build()
    base = BTF(base_b.blob())
    a = base.split(_module_blob(base_b, base_ids, base.count, "alpha", "a_count"), "alpha")
    b = base.split(_module_blob(base_b, base_ids, base.count, "beta", "b_count"), "beta")
    pa = a.func_params("fn_alpha")[0]
    pb = b.func_params("fn_beta")[0]
    assert pa.ctype == "struct alpha *" and pb.ctype == "struct beta *"
    assert pa.type != pb.type and pb.type >= base.count + 5
    # the base reader (what sema and pass 3 hold) serves both modules' ids
    assert base.describe(pa.type) == "struct alpha *" and base.describe(pb.type) == "struct beta *"
    assert base.member_chain(pb.type, ["b_count"]).fetch_expr("%di") == "+0(%di)"
    assert base.member_chain(pb.type, ["o", "next", "b"]).fetch_expr("%di") == "+4(+16(+8(%di)))"
    # a module's reader sees the base's types and its own, found by name
    assert b.find("beta", B.STRUCT) == [b.type(pb.type).type]
    assert b.find("alpha", B.STRUCT) == [] and b.find_one("outer", B.STRUCT) == base_ids["outer"]
    assert b.type(a.find_one("alpha", B.STRUCT)).name == "alpha"
    assert b.pointer_to(b.find_one("beta", B.STRUCT)) == pb.type
    with pytest.raises(KernelError, match="out of range"):
        base.type(pb.type + 10)


@pytest.mark.parametrize("blob, msg", [
    (b"\0" * 10, "too short"),
    (struct.pack("<HBBIIIII", 0x1234, 1, 0, 24, 0, 0, 0, 0), "not BTF"),
    (struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 100, 100, 1) + b"\0", "run past the end"),
    (struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 12, 12, 1)
     + struct.pack("<III", 0, B.STRUCT << 24 | 2, 8) + b"\0", "truncated"),
])
def test_bad_blobs(blob, msg):
    with pytest.raises(KernelError, match=msg):
        BTF(blob)


def test_missing_file(tmp_path):
    with pytest.raises(KernelError, match="CONFIG_DEBUG_INFO_BTF"):
        BTF.load(str(tmp_path / "vmlinux"))


def test_module_types_from_a_snapshot(tmp_path):
    """features.module_btf reads btf/MODULE beside btf/vmlinux, split over
    it; @cast(p, T, "kernel:MODULE") finds T there, and only there."""
    from ftstap.errors import SemanticError
    from ftstap.kernel.features import KernelFeatures
    from ftstap.lang.source import Loc, Source
    from ftstap.sema.targets import TargetTyper
    KernelFeatures.current().save_snapshot(str(tmp_path), formats=False, btf=False)
    base_b, base_ids = build()
    (tmp_path / "btf").mkdir()
    (tmp_path / "btf" / "vmlinux").write_bytes(base_b.blob())
    base = BTF(base_b.blob())
    (tmp_path / "btf" / "alpha").write_bytes(_module_blob(base_b, base_ids, base.count, "alpha", "a_count"))
    features = KernelFeatures.from_snapshot(str(tmp_path))
    assert features.module_btf("nosuch") is None and features.module_btf("../btf/vmlinux") is None
    alpha = features.module_btf("alpha")
    assert alpha is features.module_btf("alpha")                  # read once, kept on the vmlinux reader
    typer, loc = TargetTyper(None, features), Loc(Source("<test>", "x"), 0)
    tid = typer.lookup("struct alpha", "kernel:alpha", loc)
    assert features.btf_reader().describe(tid) == "struct alpha"
    assert typer.lookup("outer", "kernel:alpha", loc) == base_ids["outer"]
    with pytest.raises(SemanticError, match="not in the BTF of kernel"):
        typer.lookup("alpha", "kernel", loc)
    with pytest.raises(SemanticError, match="no such module is loaded"):
        typer.lookup("alpha", "beta", loc)
