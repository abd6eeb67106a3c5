"""kernel/formatcache.py: the syscalls:* formats of this boot, kept between runs."""
import os
from types import SimpleNamespace

from ftstap.kernel import formatcache


def _formats(f):
    return {k: v for k, v in f._cache.items() if k[0] == "fmt"}


def _features(tracefs="/sys/kernel/tracing", snapshot=None):
    return SimpleNamespace(snapshot=snapshot, tracefs=tracefs, _cache={})


def test_formats_read_once_are_preloaded_next_time(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = _features()
    formatcache.preload(first, "syscalls")
    first._cache[("fmt", "syscalls", "sys_enter_sync")] = "FORMAT"
    formatcache.save(first, "syscalls")
    assert any(n.startswith("formats-syscalls-") for n in os.listdir(tmp_path / "ftstap"))
    again = _features()
    formatcache.preload(again, "syscalls")
    assert _formats(again) == {("fmt", "syscalls", "sys_enter_sync"): "FORMAT"}


def test_another_mount_point_or_a_snapshot_is_not_shared(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    f = _features()
    formatcache.preload(f, "syscalls")
    f._cache[("fmt", "syscalls", "sys_enter_sync")] = "FORMAT"
    formatcache.save(f, "syscalls")
    other = _features(tracefs="/elsewhere")
    formatcache.preload(other, "syscalls")
    assert _formats(other) == {}
    snap = _features(snapshot=str(tmp_path))
    formatcache.preload(snap, "syscalls")
    snap._cache[("fmt", "syscalls", "sys_enter_x")] = "F"
    formatcache.save(snap, "syscalls")
    assert formatcache._key(snap, "syscalls") is None
