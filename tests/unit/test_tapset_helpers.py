"""The pure-script helpers of the tapset library (tapsets/inet.stp,
arch.stp, stopwatch.stp, queue_stats.stp, memory.stp's __gfp_flag_str,
signal_calls.stp's __si_code_str, socket_str.stp's sock_*_str, tcp.stp's
tcp_sockopt_str), run through the real command line in a
begin probe (no kernel events)."""
import subprocess
import sys


def run(body):
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", "probe begin { %s; exit() }" % body],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_byte_order():
    out = run('printf("%x %x %x %x %x %x\\n", htonl(0x01020304), ntohs(0xabcd), htons(0x1234), '
              'ntohl(0xdeadbeef), htonll(0x0123456789abcdef), ntohll(0xfedcba9876543210))')
    assert out == "4030201 cdab 3412 efbeadde efcdab8967452301 1032547698badcfe\n"


def test_arch_bytes():
    assert run("println(arch_bytes(), uarch_bytes())") == "88\n"


def test_stopwatch_accumulates_only_while_running():
    """Each probe runs at one moment, so the laps are timer periods: a lap of
    ~100 ms, a 100 ms pause not counted, then reset and delete."""
    script = ('global n, lap; probe begin { start_stopwatch("a"); stop_stopwatch("never") } '
              'probe timer.ms(100) { n++; if (n == 1) { stop_stopwatch("a"); lap = read_stopwatch_ms("a") } '
              'if (n == 2) { printf("%d %d %d\\n", lap, read_stopwatch_ms("a") == lap, read_stopwatch_us("never")); '
              'reset_stopwatch("a"); println(read_stopwatch_ns("a")); delete_stopwatch("a"); '
              'println(read_stopwatch_ms("a")); exit() } }')
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", script], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    first, rest = p.stdout.split("\n", 1)
    lap, paused_same, never = map(int, first.split())
    assert 90 <= lap <= 400 and paused_same == 1 and never == 0, p.stdout
    assert rest == "0\n0\n"


def test_queue_stats_counts_requests():
    out = run('qsq_start("q"); for (i = 0; i < 5; i++) { qs_wait("q"); qs_run("q"); qs_done("q") } '
              'println(qsq_throughput("q", 1000000) > 0); println(qsq_blocked("q", 100) <= 100); '
              'println(qsq_utilization("q", 100) <= 100)')
    assert out == "1\n1\n1\n"


def test_gfp_flag_names():
    out = run('println(__gfp_flag_str(0xcc0)); println(__gfp_flag_str(0xa20)); '
              'println(__gfp_flag_str(0xcc0 | 0x100)); println(__gfp_flag_str(0x140cca)); '
              'println(__gfp_flag_str(0x3))')
    assert out == "GFP_KERNEL\nGFP_ATOMIC\nGFP_KERNEL|0x100\nGFP_HIGHUSER_MOVABLE\n0x3\n"


def test_si_code_names():
    assert run('println(__si_code_str(0), " ", __si_code_str(-6), " ", __si_code_str(0x80), " ", '
               '__si_code_str(7))') == "SI_USER SI_TKILL SI_KERNEL 7\n"


def test_names_and_numbers_round_trip():
    out = run('printf("%s %s %s %s\\n", sock_prot_num2str(6), sock_fam_num2str(10), '
              'sock_state_num2str(3), sock_type_num2str(2)); '
              'printf("%d %d %d %d\\n", sock_prot_str2num("UDP"), sock_fam_str2num("NETLINK"), '
              'sock_state_str2num("CONNECTING"), sock_type_str2num("SEQPACKET"))')
    assert out == "TCP INET6 CONNECTED DGRAM\n17 16 2 5\n"


def test_unknown_values():
    out = run('printf("%s %s %d %d\\n", sock_prot_num2str(250), sock_type_num2str(0), '
              'sock_fam_str2num("NOPE"), sock_prot_str2num(""))')
    assert out == "UNDEF UNDEF -1 -1\n"


def test_flags():
    out = run('printf("%s %s %s %s\\n", msg_flags_num2str(0x4040), msg_flags_num2str(0), '
              'sock_flags_num2str(5), tcp_sockopt_str(1))')
    assert out == "MSG_DONTWAIT|MSG_NOSIGNAL 0 ASYNC_NOSPACE|NOSPACE TCP_NODELAY\n"
