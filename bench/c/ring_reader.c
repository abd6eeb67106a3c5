/* The floor of the sampling path: open one tracepoint on every online CPU
   with the sample layout ftstap uses (IDENTIFIER|TID|TIME|RAW on
   CLOCK_MONOTONIC, period 1; see
   native/ring.c), map a ring per CPU, wake by watermark (a quarter of the ring) and
   only count the records while draining them.  Then run COMMAND (argv after
   the options) and stop when it exits; report "records N lost L" on stderr.

   usage: ring_reader TRACEPOINT_ID RING_BYTES COMMAND... */
#define _GNU_SOURCE 1
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ring {
    int fd;
    struct perf_event_mmap_page *meta;
    const char *data;
    uint64_t size;
};

static long long records, lost;

static void drain(struct ring *r)
{
    uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = r->meta->data_tail;
    while (tail < head) {
        const struct perf_event_header *h = (const void *)(r->data + (tail & (r->size - 1)));
        if (h->type == PERF_RECORD_SAMPLE)
            records++;
        else if (h->type == PERF_RECORD_LOST) {
            uint64_t n = 0;   /* after the header: u64 id, u64 lost (may wrap the ring's end) */
            for (int b = 0; b < 8; b++)
                ((char *)&n)[b] = r->data[(tail + sizeof *h + 8 + (uint64_t)b) & (r->size - 1)];
            lost += (long long)n;
        }
        tail += h->size;
    }
    __atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s TRACEPOINT_ID RING_BYTES COMMAND...\n", argv[0]);
        return 2;
    }
    uint64_t id = strtoull(argv[1], NULL, 0);
    uint64_t bytes = strtoull(argv[2], NULL, 0);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t pages = 1;
    while (pages * (uint64_t)page < bytes)
        pages <<= 1;
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct ring *rings = calloc((size_t)ncpu, sizeof *rings);
    int ep = epoll_create1(0);
    for (int cpu = 0; cpu < ncpu; cpu++) {
        struct perf_event_attr a;
        memset(&a, 0, sizeof a);
        a.size = sizeof a;
        a.type = PERF_TYPE_TRACEPOINT;
        a.config = id;
        a.sample_period = 1;
        a.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
        a.use_clockid = 1;           /* ftstap's sample times: CLOCK_MONOTONIC */
        a.clockid = CLOCK_MONOTONIC;
        a.disabled = 1;
        a.watermark = 1;
        a.wakeup_watermark = (uint32_t)(pages * (uint64_t)page / 4);
        int fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            perror("perf_event_open");
            return 1;
        }
        void *m = mmap(NULL, (pages + 1) * (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        rings[cpu] = (struct ring){fd, m, (const char *)m + page, pages * (uint64_t)page};
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)cpu};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    for (int cpu = 0; cpu < ncpu; cpu++)
        ioctl(rings[cpu].fd, PERF_EVENT_IOC_ENABLE, 0);
    pid_t child = fork();
    if (child == 0) {
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status = 0;
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < n; i++)
            drain(&rings[evs[i].data.u32]);
        if (n == 0)
            for (int cpu = 0; cpu < ncpu; cpu++)
                drain(&rings[cpu]);
        if (waitpid(child, &status, WNOHANG) == child)
            break;
    }
    for (int cpu = 0; cpu < ncpu; cpu++)
        ioctl(rings[cpu].fd, PERF_EVENT_IOC_DISABLE, 0);
    for (int cpu = 0; cpu < ncpu; cpu++)
        drain(&rings[cpu]);
    fprintf(stderr, "records %lld lost %lld\n", records, lost);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
