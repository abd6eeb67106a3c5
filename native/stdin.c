/* input.char and input.line (tapsets/input.stp): ftstap's standard input,
 * one character at a time, as stap offers it to a script.
 *
 * The tapset serves both from write probes of the procfs file "__stdin";
 * when a program has one, ft_stdin_start() watches fd 0 in the event loop
 * and hands each character read to each of them as its $value.  A terminal is put in non-canonical mode (no line buffering, as
 * stap does) and restored when the session ends (ft_stdin_restore, from
 * ft_session_free: every exit path but SIGKILL).  At end of file the fd is
 * no longer watched (FT_WATCH_DONE).  No O_NONBLOCK: the flag would belong
 * to the open file ftstap shares with its shell; epoll says a read will
 * not block.
 */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "procfs.h"

#include <errno.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;

void ft_stdin_restore(void)
{
    if (saved_fd >= 0)
        tcsetattr(saved_fd, TCSANOW, &saved);
    saved_fd = -1;
}

static int on_stdin(ft_vm *vm, int fd, void *arg)
{
    (void)arg;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        ft_stdin_restore();
        return FT_WATCH_DONE;
    }
    for (ssize_t i = 0; i < n && !vm->exit_requested && !vm->error_state; i++)
        for (int p = ft_procfs_next(vm, "__stdin", 7, 1, -1); p >= 0 && !vm->exit_requested;
             p = ft_procfs_next(vm, "__stdin", 7, 1, p)) {
            char none = 0;
            ft_procfs_io io = {buf + i, 1, &none, 0, 0};
            ft_procfs_run(vm, p, &io);       /* input.char, input.line: each */
        }
    return 0;
}

int ft_stdin_start(ft_vm *vm)
{
    if (ft_procfs_next(vm, "__stdin", 7, 1, -1) < 0)
        return FT_OK;
    if (isatty(0) && saved_fd < 0 && tcgetattr(0, &saved) == 0) {
        struct termios raw = saved;
        raw.c_lflag &= ~(tcflag_t)ICANON;
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(0, TCSANOW, &raw) == 0)
            saved_fd = 0;
    }
    return ft_loop_watch_fd(vm, 0, on_stdin, NULL);
}
