/* Test driver for native/runner/instance.c on a kernel without event probes
 * (tests/kernel/test_live_runner_eprobes.py): the tracepoint probes of an
 * image are served as ftstap-run serves eprobes, through the session's own
 * tracefs instance (instances/ftstap_<pid>: made, each event enabled there,
 * one O_NONBLOCK trace_pipe_raw per online CPU to native/ftrace.c) instead
 * of perf, and torn down by rt_live_close.  The records of a tracepoint and
 * of an eprobe reach ftrace.c alike, so the output must be what
 * `ftstap --run` prints for the image through perf.
 *
 *     runner_ftrace_drive IMAGE SECONDS [KB]
 *
 * KB: the instance's buffer per CPU (0: the kernel's default); without it,
 * the size ftstap-run gives it and its perf rings without -s.
 *
 * Stop signals are blocked, as ftstap-run blocks them: the loop reads them. */
#define _GNU_SOURCE 1
#include "runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    char *b = malloc((size_t)*len + 1);
    if (b && fread(b, 1, (size_t)*len, f) != (size_t)*len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4)
        return fprintf(stderr, "usage: %s IMAGE SECONDS [KB]\n", argv[0]), 2;
    sigset_t stops;
    sigemptyset(&stops);
    for (int sig = 1; sig < NSIG; sig++)
        if (ft_stop_signal_kind(sig))
            sigaddset(&stops, sig);
    sigprocmask(SIG_BLOCK, &stops, NULL);
    char err[RT_ERR];
    long len = 0;
    char *image = slurp(argv[1], &len);
    ft_prog *prog = image ? ft_prog_load(image, len, err, sizeof err) : NULL;
    free(image);
    if (!prog)
        return fprintf(stderr, "error: %s: %s\n", argv[1], image ? err : "unreadable"), 1;
    ft_limits lim;
    ft_limits_default(&lim);
    ft_vm *vm = ft_vm_new(prog, &lim, 1, 2, err, sizeof err);
    if (!vm)
        return fprintf(stderr, "error: %s\n", err), 1;
    rt_live L = {.prog = prog, .vm = vm, .task_pid = -1};
    const char *root = rt_tracefs(err, sizeof err);
    int rc = 1;
    L.ncpus = rt_online_cpus(&L.cpus);
    if (!root || L.ncpus <= 0 || rt_remove_stale_instances(root, err, sizeof err))
        goto out;
    rt_group_init(&L.group, root);
    ft_i64 ring = (64ll << 20) / L.ncpus;       /* main.c without -s */
    L.ring_bytes = argc == 4 ? atoll(argv[3]) * 1024 : ring < (4 << 20) ? 4 << 20 : ring > (16 << 20) ? 16 << 20 : ring;
    if (rt_instance_make(&L.instance, root, L.ring_bytes, err, sizeof err))
        goto out;
    for (uint32_t i = 0; i < prog->nprobes; i++) {        /* rt_ftrace_start, for tracepoints */
        const ft_pevent *e = &prog->events[prog->probes[i].event];
        if (prog->probes[i].kind != FT_PROBE_EVENT || e->kind != FT_EVK_TRACEPOINT)
            continue;
        const char *sys = ft_prog_str(prog, e->system), *ev = ft_prog_str(prog, e->event);
        if (e->flags & FT_EVF_COUNTING) {          /* a perf counter: eprobes never are */
            snprintf(err, sizeof err, "%s:%s is in counting mode", sys, ev);
            goto out;
        }
        long long id = rt_event_id(root, sys, ev);
        if (id < 0 || ft_ftrace_map(vm, (int)id, (int)i, 0) != FT_OK ||
            rt_instance_enable(&L.instance, sys, ev, err, sizeof err)) {
            if (id < 0)
                snprintf(err, sizeof err, "no tracepoint %s:%s", sys, ev);
            goto out;
        }
    }
    for (int c = 0; c < L.ncpus; c++) {
        int fd = rt_instance_open_cpu(&L.instance, L.cpus[c], err, sizeof err);
        if (fd < 0 || ft_ftrace_add(vm, fd, L.cpus[c]) != FT_OK)
            goto out;
    }
    if (ft_events_enable(vm, err, sizeof err) < 0)
        goto out;
    rc = ft_run(vm, (ft_i64)(atof(argv[2]) * 1e9));
    err[0] = '\0';
out:
    if (rc && err[0])
        fprintf(stderr, "error: %s\n", err);
    rt_live_close(&L);
    ft_vm_flush(vm);
    ft_vm_free(vm);
    ft_prog_free(prog);
    free(L.cpus);
    return rc;
}
