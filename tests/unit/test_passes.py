"""The driver runs each pass through one entry point; a failing pass raises
PassFailed (its error, then stap's "Pass N: ... failed." line) and only
cli.py prints it."""
import pytest

from ftstap import driver
from ftstap.errors import FtstapError, PassFailed, SemanticError
from ftstap.options import Options


def _fail(opts, script):
    with pytest.raises(PassFailed) as info:
        driver.run(Options(script_text=script, **opts))
    return info.value


def test_pass_failed_renders_the_error_then_the_pass_line():
    e = PassFailed(SemanticError("no"), "Pass 3: translation failed.")
    assert e.render() == "semantic error: no\nPass 3: translation failed."
    assert PassFailed(None, "Pass 2: warnings are errors (-W).").render() == "Pass 2: warnings are errors (-W)."


@pytest.mark.parametrize("script, line", [
    ("probe begin {", "Pass 1: parse failed."),
    ("probe nosuch.thing {}", "Pass 2: analysis failed."),
    ("function f() %{ x %} probe begin { f() }", "Pass 3: translation failed."),
])
def test_each_pass_fails_with_its_line(script, line, capsys):
    e = _fail({"last_pass": 3, "guru": True, "disable_cache": True}, script)
    assert e.line == line and isinstance(e.cause, FtstapError)
    assert capsys.readouterr().err == ""          # the driver printed nothing: cli.py will


def test_only_cli_prints_errors():
    """No module but cli.py prints a rendered error (warnings may quote one)."""
    import ast
    import pathlib
    printers = []
    for path in pathlib.Path(driver.__file__).parent.rglob("*.py"):
        if path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print" and any(
                    isinstance(n, ast.Attribute) and n.attr == "render" for n in ast.walk(node)):
                printers.append(path.name)
    assert printers == []


def test_pass1_sees_the_running_kernels_config():
    """%( CONFIG_X ... %) asks the running kernel's config (kernel/features.py),
    as stap asks the build tree's .config: the driver passes it to pass 1."""
    from ftstap.kernel.features import ConfigLookup, KernelFeatures
    from ftstap.lang import ast as A
    kernel = KernelFeatures.current()
    if not kernel.config_known:
        pytest.skip("the running kernel's config is not readable")
    name, value = sorted(kernel.configs().items())[0]
    script = (f'probe begin {{ %( {name} == "{value}" %? println("set") %: println("unset") %) }}'
              ' %( CONFIG_FTSTAP_NO_SUCH_OPTION == "y" %? probe never {} %)')
    parsed = driver.parse(driver._source(Options(script_text=script)), Options(script_text=script))
    assert "set" in repr(parsed.script) and "unset" not in repr(parsed.script)
    assert len(list(parsed.script.of(A.Probe))) == 1
    lookup = ConfigLookup({"CONFIG_A": "y"})
    assert lookup("CONFIG_A") == "y" and lookup("CONFIG_B") == ""
    assert repr(lookup) == repr(ConfigLookup({"CONFIG_A": "y"})) != repr(ConfigLookup({"CONFIG_A": "m"}))
