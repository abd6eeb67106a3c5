"""Language features stap has that scripts rely on: `=~`/`!~` with
matched()/matched_str()/ngroups() (POSIX extended regular expressions,
leftmost-longest), @choose_defined and @defined pruning the branch that
cannot resolve, @this1..@this8.  Through the real command line; the
expected values are worked out by hand from POSIX's rules."""
import subprocess
import sys


def ftstap(script: str, *flags: str):
    p = subprocess.run([sys.executable, "-m", "ftstap", *flags, "-e", script], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def lines(script: str, *flags: str) -> list[str]:
    rc, out, err = ftstap(script, *flags)
    assert rc == 0, err
    return out.split("\n")[:-1]


def test_regex_match_and_groups():
    out = lines('probe begin { if ("hello world" =~ "w(or)ld") '
                'printf("%s|%s|%d|%s\\n", matched(0), matched(1), ngroups(), matched_str()); '
                'println("abc" !~ "^a", " ", "abc" !~ "^b", " ", "abc" =~ "^A"); exit() }')
    assert out == ["world|or|2|world", "0 1 0"]


def test_regex_is_posix_extended_leftmost_longest():
    # alternation takes the longest match, not the first alternative (Perl/Python would say "a")
    # a group that took no part in the match is "", and still counted by ngroups()
    # a literal's backslashes reach the matcher as written: "\." is a dot
    out = lines('probe begin { if ("abcd" =~ "(a|ab|abc)") println(matched(1)); '
                'if ("ab" =~ "a|(b)") printf("[%s] %d\\n", matched(1), ngroups()); '
                'println("x.c" =~ "^[[:alpha:]]+\\.c$", "xyc" =~ "^x\\.c$"); '
                'if ("key=value" =~ "^([^=]+)=(.*)$") println(matched(2), matched(1)); exit() }')
    assert out == ["abc", "[] 2", "10", "valuekey"]


def test_matched_after_a_failed_match_is_an_error():
    rc, out, err = ftstap('probe begin { println("abc" =~ "zz"); println(matched(0)); exit() }')
    assert out == "0\n"
    assert "ERROR: matched(0): the last use of =~ did not match" in err, err


def test_bad_regex_is_refused_at_pass_2_with_its_place():
    rc, out, err = ftstap('probe begin { println("x" =~ "a[b-d}+") }', "-p2")
    assert rc == 1
    assert "invalid regular expression 'a[b-d}+'" in err and "<input>:1:27" in err, err


def test_choose_defined_takes_the_first_that_resolves():
    rc, out, err = ftstap('probe begin { x = @choose_defined($nosuch, 5); s = @choose_defined($no, $neither, "s"); '
                          'println(x, s); exit() }')
    assert rc == 0 and out == "5s\n", err
    rc, out, err = ftstap('probe begin { println(@choose_defined(1)) }', "-p1")
    assert rc == 1 and "'@choose_defined' needs at least two expressions" in err, err


def test_defined_prunes_the_dead_branch_only():
    out = lines('probe begin { if (@defined($x)) println($x) else println("none"); '
                'println(@defined($y) ? $y : 2, !@defined($z) ? "no z" : $z); exit() }')
    assert out == ["none", "2no z"]
    # a plain constant condition does not hide an unknown variable, as in stap
    rc, out, err = ftstap('probe begin { if (0) println($x); exit() }', "-p2")
    assert rc == 1 and "'$x' cannot be resolved" in err, err


def test_this_variables_are_per_thread_scratch():
    out = lines('probe begin { @this1 = 3; @this2 = "x"; println(@this1, @this2); delete @this1; '
                'println(@this1); @this8 = 8; println(@this8); exit() }')
    assert out == ["3x", "0", "8"]          # never autoprinted: they are the tapset's globals


def test_statements_with_no_effect_are_dropped_before_checking():
    # stap's optimizer: an unused value that changes nothing never needs to resolve
    rc, out, err = ftstap('probe begin { foo->has->no->type; - @entry(get_cycles()); no . $such + $var; '
                          'for (2 < $i; 0; bar) ; if (baz) {} println("kept"); exit() }')
    assert rc == 0 and out == "kept\n", err
    # -u keeps them, as stap's -u does: then they must resolve
    rc, out, err = ftstap('probe begin { foo->has->no->type; exit() }', "-u", "-p2")
    assert rc == 1 and "foo" in err, err
    # an array test is not dropped: a scalar used as an array is still an error
    rc, out, err = ftstap('global g; probe begin { g = 1 } probe end { if (4 in g) { } }', "-p2")
    assert rc == 1, out
    # a call may do anything: it stays
    assert lines('function f() { println("called"); return 1 } probe begin { f(); exit() }') == ["called"]
