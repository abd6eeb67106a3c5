"""-c CMD is split as staprun splits it (wordexp, WRDE_NOCMD|WRDE_UNDEF) and
exec'd directly, so target() is the command, `=` in words included; shell
syntax goes to /bin/sh -c (issue 14)."""
import pytest

from ftstap.errors import FtstapError
from ftstap.runtime.command import command_argv


def test_words_with_equals_are_exec_directly():
    assert command_argv("dd if=/dev/zero of=/dev/null count=1000") == \
        ["dd", "if=/dev/zero", "of=/dev/null", "count=1000"]


def test_quotes_escapes_and_variables_are_expanded(monkeypatch):
    monkeypatch.setenv("FTSTAP_T", "v a")
    assert command_argv('echo "a b" c\\ d \'$x\' $FTSTAP_T') == ["echo", "a b", "c d", "$x", "v", "a"]


def test_shell_syntax_goes_to_sh():
    for cmd in ("echo a | cat", "sleep 1; true", "echo $(id)", "echo `id`", "a > /dev/null"):
        assert command_argv(cmd) == ["/bin/sh", "-c", cmd], cmd


def test_bad_commands_are_one_clear_error():
    for cmd, why in (('echo "a', "syntax"), ("echo $FTSTAP_SURELY_UNSET_X", "undefined"), ("  ", "no command")):
        with pytest.raises(FtstapError, match=why):
            command_argv(cmd)

