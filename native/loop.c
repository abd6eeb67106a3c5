/* The event loop: a session from begin probes to end probes.
 *
 *   1. begin probes, in priority order (begin(N); ties keep script order);
 *   2. unless exit() was called or an error ended the session: one epoll
 *      set with a timerfd per timer probe (.randomize re-arms each expiry
 *      with a new random interval), a signalfd for the signals that end a
 *      session (ft_stop_signal_kind), the output fd (its reader went away:
 *      `| head -1`), a timerfd for -T, and the fds registered with ft_loop_watch_fd (the
 *      hook for the perf ring buffers of part 4).  A script with nothing
 *      that can fire after begin still waits there, like stap, until exit(),
 *      a signal or -T;
 *   3. end probes in priority order, with the autoprinted globals where
 *      stap puts its synthetic end probes (after the end probes of
 *      priority <= 0) -- or, when errors ended the session (more than
 *      MAXERRORS), the error probes instead;
 *   4. "WARNING: Number of errors: N, skipped probes: M" if any, flush.
 */
#define _GNU_SOURCE 1   /* sched_getcpu */
#include "ftstap.h"
#include "vm.h"
#include "session.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#define TAG_TIMER 1ull
#define TAG_SIGNAL 2ull
#define TAG_TIMEOUT 3ull
#define TAG_WATCH 4ull
#define TAG_OUTPUT 5ull
#define MAX_TIMER_RUNS 16      /* expirations run after a stall, per wakeup */

int ft_vm_set_child(ft_vm *vm, int pid, int start_fd)
{
    ft_session *S = pid > 0 ? ft_session_of(vm) : NULL;
    if (!S)
        return pid > 0 ? FT_ENOMEM : FT_EINVAL;
    S->child_pid = pid;
    S->child_fd = start_fd;
    vm->lim.target_pid = pid;        /* target() is the command */
    return FT_OK;
}

int ft_vm_child_status(const ft_vm *vm) { return vm->session ? vm->session->child_status : -1; }

int ft_child_die_with(int parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        return -1;
    return getppid() == parent ? 0 : -1;     /* it may have died before the prctl */
}

int ft_stop_signal_kind(int sig)
{
    switch (sig) {
    case SIGINT: case SIGTERM: case SIGHUP: case SIGQUIT:
        return 1;
    case SIGUSR1: case SIGUSR2: case SIGALRM: case SIGVTALRM: case SIGPROF: case SIGXCPU:
    case SIGXFSZ: case SIGIO: case SIGPWR: case SIGSTKFLT:
        return 2;
    default:
        return sig >= SIGRTMIN && sig <= SIGRTMAX ? 2 : 0;
    }
}

int ft_vm_stop_signal(const ft_vm *vm) { return vm->stop_signal; }

/* -c: has the command ended?  Reaps it and keeps its wait status. */
static int child_done(ft_vm *vm)
{
    ft_session *S = vm->session;
    if (!S || S->child_pid <= 0)
        return 0;
    if (S->child_status >= 0)
        return 1;
    int st;
    pid_t r = waitpid(S->child_pid, &st, WNOHANG);
    if (r == S->child_pid || (r < 0 && errno == ECHILD)) {
        S->child_status = r == S->child_pid ? st : 0;
        return 1;
    }
    return 0;
}

/* -c: let the command exec (one byte) once the begin probes have run, or
   tell it to give up (EOF) when the session ends before that. */
static void release_child(ft_vm *vm, int go)
{
    ft_session *S = vm->session;
    if (!S || S->child_fd < 0)
        return;
    if (go) {
        char b = 1;
        if (write(S->child_fd, &b, 1) != 1)
            ft_vm_diag(vm, "WARNING", "cannot start the -c command");
    }
    close(S->child_fd);
    S->child_fd = -1;
}

int ft_loop_watch_fd(ft_vm *vm, int fd, ft_fd_handler on_ready, void *arg)
{
    ft_session *S = ft_session_of(vm);
    if (!S)
        return FT_ENOMEM;
    int n = (int)(sizeof S->watch / sizeof S->watch[0]);
    if (S->nwatch >= n || fd < 0 || !on_ready)
        return FT_EINVAL;
    S->watch[S->nwatch].fd = fd;
    S->watch[S->nwatch].fn = on_ready;
    S->watch[S->nwatch].arg = arg;
    S->nwatch++;
    return FT_OK;
}

/* Probes of one kind, stably sorted by priority. */
static int probes_of(const ft_prog *p, int kind, int *out)
{
    int n = 0;
    for (uint32_t i = 0; i < p->nprobes; i++) {
        if (p->probes[i].kind != kind)
            continue;
        int j = n++;
        while (j > 0 && p->probes[out[j - 1]].priority > p->probes[i].priority) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = (int)i;
    }
    return n;
}

ft_ctx ft_loop_here(const ft_vm *vm)
{
    ft_ctx c = vm->self;
    c.time_ns = ft_mono_now();
    int cpu = sched_getcpu();
    c.cpu = cpu >= 0 ? cpu : 0;
    return c;
}

static void run_list(ft_vm *vm, const int *list, int n, int stop_on_error, ft_i64 prio_min,
                     ft_i64 prio_max)
{
    const ft_prog *p = vm->prog;
    for (int k = 0; k < n; k++) {
        ft_i64 prio = p->probes[list[k]].priority;
        if (prio < prio_min || prio > prio_max)
            continue;
        if (stop_on_error && vm->error_state)
            return;
        ft_ctx c = ft_loop_here(vm);
        ft_vm_run_probe(vm, list[k], &c);
    }
}

static uint64_t rnd(ft_vm *vm)
{
    uint64_t x = vm->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return vm->rng = x;
}

static int arm(int fd, ft_i64 first_ns, ft_i64 period_ns)
{
    struct itimerspec its = {{period_ns / 1000000000, period_ns % 1000000000},
                             {first_ns / 1000000000, first_ns % 1000000000}};
    if (first_ns <= 0)
        its.it_value.tv_nsec = 1;
    return timerfd_settime(fd, 0, &its, NULL);
}

/* timer.ms(N).randomize(R): each interval is N + a uniform value in [-R, R] */
static ft_i64 next_interval(ft_vm *vm, const ft_probe *pr)
{
    if (!pr->randomize_ns)
        return pr->interval_ns;
    uint64_t span = 2 * (uint64_t)pr->randomize_ns + 1;
    return pr->interval_ns - pr->randomize_ns + (ft_i64)(rnd(vm) % span);
}

static int watch(int ep, int fd, uint64_t tag, uint64_t index)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag << 32 | index};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void wait_for_events(ft_vm *vm, ft_i64 timeout_ns)
{
    const ft_prog *p = vm->prog;
    ft_session *S = vm->session;
    int *tfd = calloc(p->nprobes ? p->nprobes : 1, sizeof *tfd);
    int ep = epoll_create1(EPOLL_CLOEXEC), sfd = -1, tofd = -1;
    sigset_t set, old;
    sigemptyset(&set);
    for (int sig = 1; sig < NSIG; sig++)
        if (ft_stop_signal_kind(sig))
            sigaddset(&set, sig);
    if (S && S->child_pid > 0)
        sigaddset(&set, SIGCHLD);    /* -c: the command's end ends the session */
    pthread_sigmask(SIG_BLOCK, &set, &old);
    if (!tfd || ep < 0) {
        ft_vm_diag(vm, "ERROR", "cannot set up the event loop");
        vm->error_state = 1;
        goto out;
    }
    for (uint32_t i = 0; i < p->nprobes; i++) {
        tfd[i] = -1;
        const ft_probe *pr = &p->probes[i];
        if (pr->kind != FT_PROBE_TIMER)
            continue;
        tfd[i] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (tfd[i] < 0 || arm(tfd[i], next_interval(vm, pr), pr->randomize_ns ? 0 : pr->interval_ns) ||
            watch(ep, tfd[i], TAG_TIMER, i)) {
            ft_vm_diag(vm, "ERROR", "cannot create a timer");
            vm->error_state = 1;
            goto out;
        }
    }
    sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0 || watch(ep, sfd, TAG_SIGNAL, 0)) {
        ft_vm_diag(vm, "ERROR", "cannot watch signals");
        vm->error_state = 1;
        goto out;
    }
    if (timeout_ns > 0) {
        tofd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (tofd < 0 || arm(tofd, timeout_ns, 0) || watch(ep, tofd, TAG_TIMEOUT, 0)) {
            ft_vm_diag(vm, "ERROR", "cannot set the -T timer");
            vm->error_state = 1;
            goto out;
        }
    }
    if (!vm->out->bulk) {            /* EPOLLERR: a pipe's reader closed it (not for files) */
        struct epoll_event oev = {.events = 0, .data.u64 = TAG_OUTPUT << 32};
        epoll_ctl(ep, EPOLL_CTL_ADD, vm->out->fd, &oev);
    }
    for (int w = 0; S && w < S->nwatch; w++)
        if (watch(ep, S->watch[w].fd, TAG_WATCH, (uint64_t)w)) {
            ft_vm_diag(vm, "ERROR", "cannot watch an event fd");
            vm->error_state = 1;
            goto out;
        }

    int stop = child_done(vm);       /* it may have ended before SIGCHLD was blocked */
    while (!stop && !vm->exit_requested && !vm->error_state) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int k = 0; k < n && !stop && !vm->exit_requested && !vm->error_state; k++) {
            uint64_t tag = evs[k].data.u64 >> 32;
            uint32_t idx = (uint32_t)evs[k].data.u64;
            if (tag == TAG_TIMER) {
                uint64_t fired = 0;
                if (read(tfd[idx], &fired, sizeof fired) != (ssize_t)sizeof fired)
                    continue;
                const ft_probe *pr = &p->probes[idx];
                if (pr->randomize_ns)
                    arm(tfd[idx], next_interval(vm, pr), 0);
                if (fired > MAX_TIMER_RUNS)
                    fired = MAX_TIMER_RUNS;
                ft_ctx at = ft_loop_here(vm);
                ft_session_drain(vm, at.time_ns);  /* the timer sees every event before it */
                for (uint64_t r = 0; r < fired && !vm->exit_requested && !vm->error_state; r++) {
                    ft_ctx c = at;
                    ft_vm_run_probe(vm, (int)idx, &c);
                }
            } else if (tag == TAG_SIGNAL) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                    if (si.ssi_signo != SIGCHLD || child_done(vm)) {
                        stop = 1;
                        if (si.ssi_signo != SIGCHLD && !vm->stop_signal)
                            vm->stop_signal = (int)si.ssi_signo;
                    }
            } else if (tag == TAG_OUTPUT) {
                stop = 1;
            } else if (tag == TAG_TIMEOUT) {
                stop = 1;
            } else if (tag == TAG_WATCH) {
                if (S->watch[idx].fn(vm, S->watch[idx].fd, S->watch[idx].arg) == FT_WATCH_DONE)
                    epoll_ctl(ep, EPOLL_CTL_DEL, S->watch[idx].fd, NULL);   /* its end of file */
            }
        }
        if (ft_out_flush(vm->out) != FT_OK)
            stop = 1;                /* EPIPE (`| head -1`), ENOSPC...: end, as stap does */
    }
out:
    if (sfd >= 0) {                   /* consume what came late, then unblock */
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
            ;
        close(sfd);
    }
    for (uint32_t i = 0; tfd && i < p->nprobes; i++)
        if (tfd[i] >= 0)
            close(tfd[i]);
    if (tofd >= 0)
        close(tofd);
    if (ep >= 0)
        close(ep);
    free(tfd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int ft_run(ft_vm *vm, ft_i64 timeout_ns)
{
    const ft_prog *p = vm->prog;
    ft_stdin_start(vm);              /* input.char/input.line: read in the loop, after begin */
    int *list = calloc(p->nprobes ? p->nprobes : 1, sizeof *list);
    if (!list)
        return 1;
    int n = probes_of(p, FT_PROBE_BEGIN, list);
    run_list(vm, list, n, 1, INT64_MIN, INT64_MAX);
    ft_out_flush(vm->out);           /* begin's output before the command's, and not at the end */
    release_child(vm, !vm->exit_requested && !vm->error_state);

    /* As stap: the session runs until exit(), an error, a stop signal, -T or
       the end of -c's command, even when nothing can fire after begin
       (`probe begin { println("hi") }` waits for Ctrl-C). */
    if (!vm->exit_requested && !vm->error_state)
        wait_for_events(vm, timeout_ns);
    ft_session_stop(vm);               /* live events: disable, run what is left, report losses */
    ft_out_flush(vm->out);

    vm->exit_requested = 1;
    if (!vm->error_state) {
        n = probes_of(p, FT_PROBE_END, list);
        run_list(vm, list, n, 1, INT64_MIN, 0);
        if (!vm->error_state) {
            vm->ctx.cpu = ft_loop_here(vm).cpu;     /* stap's autoprint is an end probe */
            ft_autoprint(vm);
        }
        run_list(vm, list, n, 1, 1, INT64_MAX);
    }
    if (vm->error_state) {
        n = probes_of(p, FT_PROBE_ERROR, list);
        run_list(vm, list, n, 0, INT64_MIN, INT64_MAX);
    }
    free(list);
    int lost_output = ft_out_flush(vm->out) != FT_OK && vm->out->err != EPIPE;
    if (lost_output) {               /* EPIPE (`| head -1`) ends the session quietly, as stap */
        char msg[400];
        if (vm->out->why[0])
            snprintf(msg, sizeof msg, "%s", vm->out->why);
        else
            snprintf(msg, sizeof msg, "cannot write the output: %s", strerror(vm->out->err));
        ft_vm_diag(vm, "ERROR", msg);
    }
    if (vm->nerrors || vm->nskipped) {
        char msg[128];
        snprintf(msg, sizeof msg, "Number of errors: %lld, skipped probes: %lld",
                 (long long)vm->nerrors, (long long)vm->nskipped);
        ft_vm_diag(vm, "WARNING", msg);
    }
    return vm->nerrors || vm->error_state || lost_output ? 1 : 0;
}

int ft_vm_write_output(ft_vm *vm, const char *s, ft_i64 n)
{
    vm->ctx.cpu = ft_loop_here(vm).cpu;
    ft_out_write(vm->out, s, n);
    return ft_out_flush(vm->out);
}

/* ---- autoprint: stap's display of globals written but never read ---- */

static void put(ft_vm *vm, const char *s, ft_i64 n) { ft_out_write(vm->out, s, n < 0 ? (ft_i64)strlen(s) : n); }

static void put_dec(ft_vm *vm, ft_i64 v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    put(vm, buf, n);
}

/* "%#s" between quotes: the string with C escapes */
static void put_quoted(ft_vm *vm, const char *s)
{
    put(vm, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == '"' ? "\\\""
                      : c == '\\' ? "\\\\" : NULL;
        if (e) {
            put(vm, e, 2);
        } else if (c < 32 || c >= 127) {
            char o[5] = {'\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7)), 0};
            put(vm, o, 4);
        } else {
            put(vm, (const char *)&c, 1);
        }
    }
    put(vm, "\"", 1);
}

static void put_stats(ft_vm *vm, const ft_stat *st)
{
    static const char *const names[] = {" @count=", " @min=", " @max=", " @sum=", " @avg="};
    static const int aggs[] = {FT_AGG_COUNT, FT_AGG_MIN, FT_AGG_MAX, FT_AGG_SUM, FT_AGG_AVG};
    for (int k = 0; k < 5; k++) {
        ft_i64 v;
        ft_stat_get(st, aggs[k], &v);
        put(vm, names[k], -1);
        put_dec(vm, v);
    }
}

void ft_autoprint(ft_vm *vm)
{
    const ft_prog *p = vm->prog;
    for (uint32_t i = 0; i < p->nglobals; i++) {
        const ft_glob *g = &p->globals[i];
        if (!(g->flags & FT_G_AUTOPRINT))
            continue;
        const char *name = p->strs[g->name].s;
        ft_gval *v = &vm->g[i];
        if (!g->nkeys) {
            put(vm, name, -1);
            if (g->vtype == FT_T_INT) {       /* decimal, as stap's maps/ and printf/autoprint tests show */
                put(vm, "=", 1);
                put_dec(vm, v->i);
            } else if (g->vtype == FT_T_STR) {
                put(vm, "=", 1);
                put_quoted(vm, v->s->s);
            } else if (ft_stat_count(v->st) == 0) {
                put(vm, " @count=0x0", -1);
            } else {
                put_stats(vm, v->st);
            }
            put(vm, "\n", 1);
            continue;
        }
        ft_map *m = v->m;
        ft_map_sort(m, 0, -1, FT_AGG_COUNT, 0);     /* foreach ([k] in g-) */
        for (ft_i64 id = ft_map_first(m); id >= 0; id = ft_map_next(m, id)) {
            put(vm, name, -1);
            put(vm, "[", 1);
            for (int c = 0; c < g->nkeys; c++) {
                if (c)
                    put(vm, ",", 1);
                if (g->keys[c] == 'i')
                    put_dec(vm, ft_map_key_int(m, id, c));
                else
                    put_quoted(vm, ft_map_key_str(m, id, c));
            }
            put(vm, "]", 1);
            if (g->vtype == FT_T_INT) {
                put(vm, "=", 1);
                put_dec(vm, ft_map_get_int(m, id));
            } else if (g->vtype == FT_T_STR) {
                put(vm, "=", 1);
                put_quoted(vm, ft_map_get_str(m, id));
            } else {
                put_stats(vm, ft_map_get_stat(m, id));
            }
            put(vm, "\n", 1);
        }
    }
}
