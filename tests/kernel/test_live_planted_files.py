"""ftstap runs as root: files another user plants must never make it write
through a symlink, overwrite a file, or run a program image they control.

Each test creates an unprivileged user, lets that user plant files (as
that user, with its own uid) in a directory everyone may write (sticky,
like /tmp), then runs ftstap as root and checks that the planted file was
refused and that a root-owned file the symlinks point at is unchanged."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRECIOUS = "root's data\n"


@pytest.fixture(scope="module")
def attacker():
    """(uid, gid) of a throw-away unprivileged user (nobody's if useradd is missing)."""
    name = f"ftsatk{os.getpid() % 100000}"
    if shutil.which("useradd") and subprocess.run(["useradd", "-M", "-r", "-s", "/bin/false", name],
                                                  capture_output=True).returncode == 0:
        import pwd
        pw = pwd.getpwnam(name)
        yield pw.pw_uid, pw.pw_gid
        subprocess.run(["userdel", name], capture_output=True)
    else:
        yield 65534, 65534


@pytest.fixture
def shared(tmp_path):
    """A directory everyone may write (mode 1777, as /tmp), and a root-only
    file outside it that planted symlinks aim at."""
    d = tempfile.mkdtemp(prefix="ftstap-shared-", dir="/tmp")
    os.chmod(d, 0o1777)
    victim = tmp_path / "victim"
    victim.write_text(PRECIOUS)
    os.chmod(victim, 0o600)
    yield d, str(victim)
    shutil.rmtree(d, ignore_errors=True)


def as_user(user, *cmd):
    uid, gid = user
    r = subprocess.run(cmd, user=uid, group=gid, extra_groups=[], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def ftstap(*args, cwd=REPO, env=None):
    return subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_p4_image_goes_to_a_private_directory_of_random_name(attacker):
    a = ftstap("-p4", "-e", 'probe begin { println("mine"); exit() }')
    b = ftstap("-p4", "-e", 'probe begin { println("mine"); exit() }')
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    path_a, path_b = a.stdout.strip(), b.stdout.strip()
    assert os.path.dirname(path_a) != os.path.dirname(path_b)
    st_dir, st_file = os.stat(os.path.dirname(path_a)), os.lstat(path_a)
    assert (st_dir.st_uid, st_dir.st_mode & 0o777) == (0, 0o700)
    assert (st_file.st_uid, st_file.st_mode & 0o077) == (0, 0)
    # The other user can neither replace the image nor add one beside it.
    r = subprocess.run(["sh", "-c", f"echo x > '{path_a}' || echo x > '{os.path.dirname(path_a)}/other'"],
                       user=attacker[0], group=attacker[1], extra_groups=[], capture_output=True)
    assert r.returncode != 0
    assert ftstap("--run", path_a).stdout == "mine\n"
    for p in (path_a, path_b):
        shutil.rmtree(os.path.dirname(p))


def test_p4_m_replaces_a_planted_symlink_instead_of_writing_through_it(attacker, shared):
    d, victim = shared
    as_user(attacker, "ln", "-s", victim, os.path.join(d, "planted.ftsimg"))
    r = ftstap("-p4", "-m", "planted", "-e", "probe begin { exit() }", cwd=d)
    assert r.returncode == 0, r.stderr
    image = os.path.join(d, "planted.ftsimg")
    st = os.lstat(image)
    assert os.path.isfile(image) and not os.path.islink(image) and st.st_uid == 0
    assert open(victim).read() == PRECIOUS


def test_run_refuses_images_another_user_could_have_written(attacker, shared):
    d, _ = shared
    good = ftstap("-p4", "-e", 'probe begin { println("ran"); exit() }').stdout.strip()
    try:
        # an image the other user owns
        theirs = os.path.join(d, "theirs.ftsimg")
        shutil.copy(good, theirs)         # an image they built (as root could), now theirs
        os.chown(theirs, *attacker)
        r = ftstap("--run", theirs)
        assert r.returncode == 1 and r.stdout == ""
        assert f"owned by uid {attacker[0]}" in r.stderr
        # root's image, but writable by others
        loose = os.path.join(d, "loose.ftsimg")
        shutil.copy(good, loose)
        os.chmod(loose, 0o666)
        r = ftstap("--run", loose)
        assert r.returncode == 1 and "writable by group or others" in r.stderr and r.stdout == ""
        # a symlink planted in the shared directory, even to a good root-owned image
        link = os.path.join(d, "link.ftsimg")
        as_user(attacker, "ln", "-s", good, link)
        r = ftstap("--run", link)
        assert r.returncode == 1 and "symbolic link" in r.stderr and r.stdout == ""
        # a shared directory the path goes through, swapped for a symlink
        as_user(attacker, "ln", "-s", os.path.dirname(good), os.path.join(d, "dir"))
        r = ftstap("--run", os.path.join(d, "dir", os.path.basename(good)))
        assert r.returncode == 1 and "symbolic link" in r.stderr and r.stdout == ""
        assert "Traceback" not in r.stderr
        # and root's own image in a private directory still runs
        assert ftstap("--run", good).stdout == "ran\n"
    finally:
        shutil.rmtree(os.path.dirname(good))


def test_cache_in_a_directory_another_user_controls_is_not_used(attacker, shared):
    d, victim = shared
    home = os.path.join(d, "home")
    as_user(attacker, "mkdir", "-p", os.path.join(home, "ftstap"))
    env = dict(os.environ, XDG_CACHE_HOME=home)
    script = 'probe begin { println("cached?"); exit() }'
    for _ in range(2):
        r = ftstap("-e", script, env=env)
        assert (r.returncode, r.stdout) == (0, "cached?\n"), r.stderr
    assert os.listdir(os.path.join(home, "ftstap")) == []
    # The cache directory itself a symlink to a root-only directory: not followed.
    home2 = os.path.join(d, "home2")
    as_user(attacker, "mkdir", home2)
    target = tempfile.mkdtemp()
    as_user(attacker, "ln", "-s", target, os.path.join(home2, "ftstap"))
    r = ftstap("-e", script, env=dict(os.environ, XDG_CACHE_HOME=home2))
    assert (r.returncode, r.stdout) == (0, "cached?\n"), r.stderr
    assert os.listdir(target) == []
    os.rmdir(target)
    assert open(victim).read() == PRECIOUS


def test_output_files_in_a_shared_directory_never_follow_planted_symlinks(attacker, shared):
    d, victim = shared
    as_user(attacker, "ln", "-s", victim, os.path.join(d, "stpd_cpu0"))
    r = ftstap("-b", "-e", 'probe begin { println("bulk"); exit() }', cwd=d)
    assert r.returncode == 1 and "symbolic link" in r.stderr and "Traceback" not in r.stderr
    as_user(attacker, "ln", "-s", victim, os.path.join(d, "out.txt"))
    r = ftstap("-o", os.path.join(d, "out.txt"), "-e", 'probe begin { println("o"); exit() }')
    assert r.returncode == 1 and "symbolic link" in r.stderr
    as_user(attacker, "touch", os.path.join(d, "theirs.txt"))
    r = ftstap("-o", os.path.join(d, "theirs.txt"), "-e", 'probe begin { println("o"); exit() }')
    assert r.returncode == 1 and f"belongs to uid {attacker[0]}" in r.stderr
    assert open(victim).read() == PRECIOUS
    # root's own file there is written as usual
    mine = os.path.join(d, "mine.txt")
    r = ftstap("-o", mine, "-e", 'probe begin { println("o"); exit() }')
    assert (r.returncode, open(mine).read()) == (0, "o\n"), r.stderr


def test_rotated_output_files_never_follow_planted_symlinks(attacker, shared):
    """-S and switch_file() open FILE.N themselves (native/outfile.c), by the same rules."""
    d, victim = shared
    as_user(attacker, "ln", "-s", victim, os.path.join(d, "rot.0"))
    r = ftstap("-S", "1", "-o", os.path.join(d, "rot"), "-e", 'probe begin { println("o"); exit() }')
    assert r.returncode == 1 and "symbolic link" in r.stderr and "Traceback" not in r.stderr
    as_user(attacker, "ln", "-s", victim, os.path.join(d, "sw.1"))
    r = ftstap("-o", os.path.join(d, "sw"), "-e",
               'probe begin { println("first"); switch_file(); println("second"); exit() }')
    assert r.returncode == 1 and "sw.1" in r.stderr and "symbolic link" in r.stderr, r.stderr
    assert open(os.path.join(d, "sw")).read() == "first\n"
    assert open(victim).read() == PRECIOUS
