"""user_string_utf32/utf16 and user_buffer_quoted (tapsets/uconversions.stp)
against the memory of a program that wrote them: it keeps a UTF-32 and a
UTF-16 string (with a surrogate pair), a buffer with NULs and a bad UTF-32
string in static storage, passes each to write(2) on /dev/null, and
lingers so that the strings are read from the live process."""
import subprocess
import sys

PROG = r'''
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
static const uint32_t s32[] = {'h', 0xe9, 0x20ac, 0x1f600, '!', 0};
static const uint16_t s16[] = {'o', 'k', 0xe9, 0xd83d, 0xde00, '"', 0};
static const uint32_t bad32[] = {'a', 0xd800, 0};
static const char buf[] = {'a', 0, 'b', '\n', 'c', 'd', 'e', 'f'};
int main(void) {
    int fd = open("/dev/null", O_WRONLY);
    printf("s32 %p s16 %p bad32 %p buf %p\n", (void *)s32, (void *)s16, (void *)bad32, (void *)buf);
    fflush(stdout);
    write(fd, s32, 1);
    write(fd, s16, 2);
    write(fd, bad32, 3);
    write(fd, buf, 4);
    usleep(300000);
    return 0;
}
'''

SCRIPT = r'''
probe syscall.write {
  if (pid() != target()) next
  if (count == 1) printf("s32\t%s\t%s\n", user_string_utf32(buf_uaddr), user_string_quoted_utf32(buf_uaddr))
  if (count == 2) printf("s16\t%s\t%s\n", user_string_utf16(buf_uaddr), user_string_quoted_utf16(buf_uaddr))
  if (count == 3) {
    try { println(user_string_utf32(buf_uaddr)) } catch (m) { printf("bad32\t%s\n", m) }
    printf("bad32q\t%s\t%s\n", user_string_utf32(buf_uaddr, "E"), user_string_quoted_utf32(buf_uaddr))
  }
  if (count == 4) printf("buf\t%s\t%s\t%s\t%s\n", user_buffer_quoted(buf_uaddr, 8, 100),
                         user_buffer_quoted(buf_uaddr, 8, 12), user_buffer_quoted_error(buf_uaddr, 3, 20),
                         user_buffer_quoted(buf_uaddr, 0, 20))
}
'''


def test_utf_strings_and_buffers_read_from_the_program(tfs, cc):
    prog = cc(PROG, "uconv_utf")
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", prog, "-e", SCRIPT], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in p.stdout.splitlines() if "\t" in line}
    addr = {k: int(v, 16) for k, v in zip(*[iter(p.stdout.split("\n")[0].split())] * 2)}
    assert rows["s32"] == ["h\u00e9\u20ac\U0001f600!", '"h\\303\\251\\342\\202\\254\\360\\237\\230\\200!"'], p.stdout
    assert rows["s16"] == ["ok\u00e9\U0001f600\"", '"ok\\303\\251\\360\\237\\230\\200\\""'], p.stdout
    assert rows["bad32"] == [f"invalid UTF-32 character U+D800 at 0x{addr['bad32'] + 4:x}"], p.stdout
    assert rows["bad32q"] == ["E", f"0x{addr['bad32']:x}"], p.stdout
    # 8 bytes with NULs; in 12 bytes the quoted text keeps 7 bytes of escapes and ends '"...'
    assert rows["buf"] == ['"a\\000b\\ncdef"', '"a\\000b"...', '"a\\000b"', '""'], p.stdout
