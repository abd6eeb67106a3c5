/* stap's rlimit tapset over task handles: _task_rlimit(task, resource) is
 * the soft limit (rlim_cur) of the process the handle's thread belongs to,
 * read with prlimit(2) as stap reads task->signal->rlim[resource].rlim_cur.
 * RLIM_INFINITY is all ones, so it reads as -1, as in stap.  A thread that
 * has exited (or a resource this kernel does not have) gives -1 too; the
 * resource names and the task_rlimit_* wrappers are in tapsets/rlimit.stp. */
#define _GNU_SOURCE      /* prlimit */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <sys/resource.h>
#include <sys/types.h>

TFB(_task_rlimit)
{
    (void)sa, (void)sret;
    ft_i64 tid;
    if (ft_task_handle_tid(vm, "task_rlimit", ia[0], &tid) != 0)
        return -1;
    struct rlimit r;
    if (ia[1] < 0 || ia[1] >= RLIM_NLIMITS || prlimit((pid_t)tid, (int)ia[1], NULL, &r) != 0) {
        *iret = -1;
        return 0;
    }
    *iret = (ft_i64)r.rlim_cur;
    return 0;
}
