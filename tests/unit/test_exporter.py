"""ftstap-exporter's checks that need no kernel: script names, files fit to
run as root, --help (the live tests are tests/kernel/test_live_exporter.py)."""
import os
import subprocess
import sys

import pytest

from ftstap import exporter


@pytest.mark.parametrize("name", ["../x.stp", "a/b.stp", "x.txt", ".hidden.stp", "", "x.stp/"])
def test_bad_names_are_not_found(name):
    exp = exporter.Exporter(".", None, 1, 1, [])
    with pytest.raises(exporter.Failed) as e:
        exp.script(name)
    assert e.value.status == 404


def test_files_unfit_to_run(tmp_path):
    good = tmp_path / "good.stp"
    good.write_text("probe begin {}")
    os.chmod(good, 0o644)
    assert exporter._check_file(str(good)) > 0
    link = tmp_path / "link.stp"
    link.symlink_to(good)
    loose = tmp_path / "loose.stp"
    loose.write_text("probe begin {}")
    os.chmod(loose, 0o666)
    for path, status in ((link, 404), (loose, 403), (tmp_path / "none.stp", 404)):
        with pytest.raises(exporter.Failed) as e:
            exporter._check_file(str(path))
        assert e.value.status == status, path


def test_help():
    r = subprocess.run([sys.executable, "-m", "ftstap.exporter", "-h"], capture_output=True, text=True)
    assert r.returncode == 0 and "--keepalive" in r.stdout and "9900" in r.stdout
