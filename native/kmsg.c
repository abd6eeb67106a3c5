/* printk(level, msg): stap writes msg to the kernel log at level (0
 * KERN_EMERG .. 7 KERN_DEBUG).  From user space the kernel log takes
 * lines written to /dev/kmsg, "<level>text"; dmesg shows them as the
 * kernel's own (prefixed by the writer's comm: printk_devkmsg permitting).
 * Guru mode only (sema/builtins.py), as in stap. */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TFB(printk)
{
    (void)iret, (void)sret;
    int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return ft_vm_fail(vm, "printk: cannot open /dev/kmsg: %s", strerror(errno));
    size_t n = sa[0]->len;
    char *line = malloc(n + 8);
    if (!line) {
        close(fd);
        return ft_vm_fail(vm, "printk: out of memory");
    }
    int head = snprintf(line, 8, "<%d>", (int)(ia[0] & 7));
    memcpy(line + head, sa[0]->s, n);
    ssize_t w = write(fd, line, (size_t)head + n);   /* one write: one record */
    int err = errno;
    free(line);
    close(fd);
    if (w < 0)
        return ft_vm_fail(vm, "printk: writing /dev/kmsg: %s", strerror(err));
    return 0;
}
