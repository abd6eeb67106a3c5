/* system(cmd): run a shell command from a probe handler, as stap's
 * system() asks staprun to: in the background, its output going where
 * ftstap's goes, the handler not waiting for it.
 *
 * The script's output so far is flushed first so the command's lines come
 * after it.  The command is a grandchild (fork, fork, exec; the middle
 * process exits at once and is reaped here), so it never becomes a zombie
 * of ftstap and never looks like the end of a -c command. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int ft_b_system(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)ia, (void)iret, (void)sret;
    ft_out_flush(vm->out);
    pid_t mid = fork();
    if (mid < 0)
        return ft_vm_fail(vm, "system(): cannot fork");
    if (mid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);   /* the event loop blocks SIGINT/SIGTERM/SIGCHLD */
        if (fork() == 0) {
            execl("/bin/sh", "sh", "-c", sa[0]->s, (char *)NULL);
            _exit(127);
        }
        _exit(0);
    }
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
        ;
    return 0;
}
