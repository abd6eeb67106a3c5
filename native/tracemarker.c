/* stap's ftrace(msg) writes msg into the kernel's ftrace ring buffer,
 * where `cat trace` shows it among the events.  From user space the way
 * in is tracefs's trace_marker file (the line shows as tracing_mark_write
 * from the writing task); while tracing is off the kernel drops it.  A
 * kernel without tracefs makes ftrace() a run-time error saying so. */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int marker_fd = -1;

TFB(ftrace)
{
    (void)ia, (void)iret, (void)sret;
    static const char *const paths[] = {"/sys/kernel/tracing/trace_marker",
                                        "/sys/kernel/debug/tracing/trace_marker"};
    for (size_t i = 0; marker_fd < 0 && i < sizeof paths / sizeof *paths; i++)
        marker_fd = open(paths[i], O_WRONLY | O_CLOEXEC);
    if (marker_fd < 0)
        return ft_vm_fail(vm, "ftrace: cannot open tracefs's trace_marker: %s", strerror(errno));
    /* EBADF: tracing is off (tracing_on is 0), and the kernel drops the
       message as it would drop a trace_printk: not an error */
    if (write(marker_fd, sa[0]->s, sa[0]->len) < 0 && errno != EBADF)
        return ft_vm_fail(vm, "ftrace: writing trace_marker: %s", strerror(errno));
    return 0;
}
