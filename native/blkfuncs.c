/* Facts about a block device that the block: tracepoints do not record but
 * sysfs shows: _blk_elevator(dev) is the name of the I/O scheduler of the
 * queue behind the kernel dev_t dev (what stap reads from
 * rq->q->elevator->type->elevator_name), "" when the queue has none or
 * the device is gone.  Read when the handler runs, a little after the
 * event: a scheduler switched in between shows the new one. */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <stdio.h>
#include <string.h>

/* the bracketed name in a queue/scheduler file ("[none] mq-deadline") */
static int read_elevator(const char *path, char *out, size_t n)
{
    char buf[256];
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;
    if (!a || !b)
        return -1;
    *b = 0;
    snprintf(out, n, "%s", strcmp(a + 1, "none") == 0 ? "" : a + 1);
    return 0;
}

TFB(_blk_elevator)
{
    (void)ia, (void)sa, (void)iret;
    unsigned long long dev = (unsigned long long)ia[0];
    char path[128], name[64] = "";
    /* a partition's queue is its disk's: one directory up */
    static const char *const where[] = {"queue/scheduler", "../queue/scheduler"};
    for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
        snprintf(path, sizeof path, "/sys/dev/block/%llu:%llu/%s", dev >> 20, dev & 0xfffff, where[i]);
        if (read_elevator(path, name, sizeof name) == 0)
            break;
    }
    ft_str_set(vm, sret, name, (ft_i64)strlen(name));
    return 0;
}
