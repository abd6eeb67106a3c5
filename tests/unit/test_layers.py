"""The layering of ftstap/'s packages, on the import graph of
test_imports.py (every import, late ones inside functions too: they are
ast-parsed, never imported).

  compile -> image <- runtime   pass 3 and pass 5 share only the program
                                image package; neither imports the other
  lang -/-> sema                pass 1 stands below pass 2
  kernel -/-> imagecache        the kernel layer notes what it read in
                                compilereads.py, which the cache reads
  image/isa.py                  the one module that imports the C core
"""
import ast

from test_imports import import_graph, modules

# (from package, to package): no module of the first may import the second
FORBIDDEN = [("compile", "runtime"), ("runtime", "compile"), ("image", "compile"), ("image", "runtime"),
             ("lang", "sema"), ("kernel", "imagecache")]


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def backward_edges(graph) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if (_package(a), _package(b)) in FORBIDDEN)


def test_no_backward_edges_between_layers():
    assert backward_edges(import_graph()) == []


def test_the_layer_check_sees_a_backward_edge():
    g = {"ftstap.compile.codegen": {"ftstap.runtime.native", "ftstap.image.isa"},
         "ftstap.lang.frontend": {"ftstap.sema.tapsets"}, "ftstap.kernel.symbols": {"ftstap.imagecache"}}
    assert backward_edges(g) == ["ftstap.compile.codegen -> ftstap.runtime.native",
                                 "ftstap.kernel.symbols -> ftstap.imagecache",
                                 "ftstap.lang.frontend -> ftstap.sema.tapsets"]


def test_only_isa_imports_the_c_core():
    importers = []
    for name, path in modules().items():
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and "_native" in (node.module or "").split("."):
                importers.append(name)
            elif isinstance(node, ast.ImportFrom) and any(a.name == "_native" for a in node.names):
                importers.append(name)
            elif isinstance(node, ast.Import) and any(a.name.endswith("._native") for a in node.names):
                importers.append(name)
    assert sorted(set(importers)) == ["ftstap.image.isa"]
