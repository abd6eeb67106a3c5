/* ftstap-run IMAGE: run a program image made by `ftstap -p4` without
 * Python, as `ftstap --run IMAGE` does (ftstap/backend.py run(),
 * runtime/session.py run_live()).
 *
 *   ftstap-run --list-active
 *   ftstap-run --describe > target.kinfo    (for `ftstap -r target.kinfo` elsewhere: native/describe.c)
 *   ftstap-run [--check] [-o FILE [-S SIZE[,N]]] [-b] [-x PID] [-c CMD] [-T SECS] [-s MB] [-D NAME=VALUE]... [-G NAME=VALUE]...
 *              [-t] [-W] IMAGE
 *
 * -G sets a scalar global of the script before the begin probes, found by
 * its name in the image, as `ftstap -G` does when it compiles and runs
 * (backend.py translate/global_values: the same checks and messages).
 * Signals: every signal that would end ftstap ends the session
 * (ft_stop_signal_kind); they are blocked from the start, so the setup in
 * progress always completes and is torn down, and the C loop reads them
 * from its signalfd.  One that came during the setup ends the session
 * before the begin probes, as in ftstap.  Teardown runs with them still
 * blocked: a second Ctrl-C cannot cut it short.  Only SIGKILL skips it: the
 * next session (of either runtime) removes the group the killed one left,
 * and the -c command dies with it (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE 1
#include "runner.h"
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define RING_BUDGET (64ll << 20)       /* runtime/session.py default_ring_bytes */
#define RING_MIN (4ll << 20)
#define RING_MAX (16ll << 20)

static const char *image_path = "";

static void usage(FILE *f)
{
    fprintf(f, "usage: ftstap-run --list-active\n       ftstap-run --describe > FILE\n       ftstap-run [--check] [-o FILE [-S SIZE[,N]]] [-b] [-x PID] [-c CMD] [-T SECS] [-s MB] [-D NAME=VALUE]...\n"
               "                  [-G NAME=VALUE]... [-t] [-W] IMAGE\n"
               "Run a program image made by `ftstap -p4` (as `ftstap --run IMAGE` does), without Python.\n"
               "--check: only check the image (exit 0 if it would run, else 1 with the reason).\n"
               "--list-active: the kernel events live ftstap sessions hold, as ftstap --list-active.\n"
               "--describe: write this kernel's description, for `ftstap -r FILE -p4` on another machine.\n");
}

static int die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "error: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

static int others_can_write(const struct stat *st)
{
    return (st->st_uid != 0 && st->st_uid != geteuid()) || (st->st_mode & 022);
}

/* The image, as backend.run_image_file reads it: one another user owns or may
   change is refused, and so is a symlink in a directory others can write
   (safefs.py walks every component; here the image's own directory). */
static char *read_image(const char *path, size_t *len)
{
    char dir[4096];
    struct stat st, dst;
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
    int shared = stat(dir, &dst) == 0 && others_can_write(&dst);
    int fd = open(path, O_RDONLY | O_CLOEXEC | (shared ? O_NOFOLLOW : 0));
    if (fd < 0) {
        if (errno == ELOOP)
            die("refusing program image '%s': %s", path, "a symbolic link in a directory others can write");
        else
            die("cannot read program image '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
        die("refusing program image '%s': %s", path,
            !S_ISREG(st.st_mode) ? "not a regular file" : st.st_uid != geteuid() ? "owned by another user"
            : "writable by group or others");
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (buf && n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf || n != (size_t)st.st_size) {
        free(buf);
        die("cannot read program image '%s'%s", path, "");
        return NULL;
    }
    *len = n;
    return buf;
}

/* -o FILE and -b's files, as runtime/outputs.py and safefs.open_output open
   them (native/outfile.c): FILE after strftime(3) when expand is set.  The
   fd, or -1 after a message. */
static int open_output(const char *name, int expand)
{
    char path[4096], why[4200];
    int bad = expand ? ft_output_name(path, sizeof path, name, time(NULL), -1) != FT_OK
                     : snprintf(path, sizeof path, "%s", name) >= (int)sizeof path;
    if (bad)
        return die("-o '%s': invalid FILE name format%s", name, "");
    int fd = ft_output_open(path, why, sizeof why);
    if (fd < 0)
        die("%s%s", why, "");
    return fd;
}

/* -b: one file per online CPU, fds[cpu] (-1 where none): FILE_N with -o
   FILE, stpd_cpuN without, /dev/null for every CPU with -o /dev/null. */
static int open_bulk(const char *out, const int *cpus, int ncpus, int **fds, int *n)
{
    int max = 0;
    for (int i = 0; i < ncpus; i++)
        max = cpus[i] > max ? cpus[i] : max;
    *n = max + 1;
    *fds = malloc((size_t)*n * sizeof **fds);
    if (!*fds)
        return -1;
    for (int i = 0; i < *n; i++)
        (*fds)[i] = -1;
    char base[4096] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (out && strcmp(out, "/dev/null") != 0 && !strftime(base, sizeof base, out, localtime_r(&now, &tm)) && out[0])
        return die("-o '%s': invalid FILE name format%s", out, ""), -1;
    for (int i = 0; i < ncpus; i++) {
        char name[4200];
        if (out && strcmp(out, "/dev/null") == 0)
            snprintf(name, sizeof name, "/dev/null");
        else if (out)
            snprintf(name, sizeof name, "%s_%d", base, cpus[i]);
        else
            snprintf(name, sizeof name, "stpd_cpu%d", cpus[i]);
        if (((*fds)[cpus[i]] = open_output(name, 0)) < 0)       /* expanded once, above */
            return -1;
    }
    return 0;
}

/* stap's -D names of ft_limits (runtime/native.py LIMIT_FIELDS) */
static int set_limit(ft_limits *lim, const char *def)
{
    static const struct { const char *name; size_t off; } fields[] = {
        {"MAXACTION", offsetof(ft_limits, maxaction)}, {"MAXNESTING", offsetof(ft_limits, maxnesting)},
        {"MAXSTRINGLEN", offsetof(ft_limits, maxstringlen)}, {"MAXMAPENTRIES", offsetof(ft_limits, maxmapentries)},
        {"MAXERRORS", offsetof(ft_limits, maxerrors)}, {"MAXSKIPPED", offsetof(ft_limits, maxskipped)},
        {"HIST_ELISION", offsetof(ft_limits, hist_elision)}, {"MAXBACKTRACE", offsetof(ft_limits, maxbacktrace)}};
    const char *eq = strchr(def, '=');
    if (!eq)
        return 0;                                   /* a bare -D NAME sets no limit */
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (strlen(fields[i].name) == (size_t)(eq - def) && memcmp(fields[i].name, def, (size_t)(eq - def)) == 0) {
            char *end;
            long long v = strtoll(eq + 1, &end, 0);
            if (end == eq + 1 || *end)
                return -1;
            *(ft_i64 *)((char *)lim + fields[i].off) = v;
        }
    return 0;
}

/* -- -c CMD (runtime/session.py _fork_command, runtime/command.py) ------------------------------ */

typedef struct command { const char *text; ft_vm *vm; sigset_t *blocked; } command;

static int start_command(void *arg)
{
    command *c = arg;
    wordexp_t we;
    char *shell[] = {"/bin/sh", "-c", (char *)c->text, NULL}, **argv = shell;
    int rc = wordexp(c->text, &we, WRDE_NOCMD | WRDE_UNDEF);
    if (rc == 0 && we.we_wordc > 0)
        argv = we.we_wordv;                         /* as staprun splits it */
    else if (rc != WRDE_BADCHAR && rc != WRDE_CMDSUB) {
        fprintf(stderr, "error: -c '%s': cannot split the command\n", c->text);
        if (rc == 0)
            wordfree(&we);
        return -1;
    }
    int p[2], ack[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(ack, O_CLOEXEC) != 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        close(p[1]);
        close(ack[0]);
        for (int sig = 1; sig < NSIG; sig++)
            if (ft_stop_signal_kind(sig) || sig == SIGPIPE)
                signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        char b = 1;
        int armed = ft_child_die_with(parent) == 0;
        /* its own system calls (getppid) are over before the events are opened
           on it: the parent waits for this byte, so the command's counts are its own */
        if (armed && write(ack[1], &b, 1) == 1 && (close(ack[1]), read(p[0], &b, 1) == 1)) {
            execvp(argv[0], argv);
            fprintf(stderr, "ftstap: cannot run %s: %s\n", argv[0], strerror(errno));
        }
        _exit(127);
    }
    if (argv != shell)
        wordfree(&we);
    close(p[0]);
    close(ack[1]);
    char b;
    ssize_t armed = pid > 0 ? read(ack[0], &b, 1) : -1;
    close(ack[0]);
    if (pid < 0 || armed != 1) {
        close(p[1]);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        return -1;
    }
    ft_vm_set_child(c->vm, pid, p[1]);              /* also target() */
    return pid;
}

/* _reap(): the command's wait status if it ended by itself; one still
   running is sent SIGTERM, then SIGKILL after 2 s.  -1: none. */
static int reap(int pid, int status_from_loop)
{
    int st;
    if (status_from_loop >= 0)
        return status_from_loop;
    if (waitpid(pid, &st, WNOHANG) == pid)
        return st;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* A stop signal that is pending (came while the loop did not read them), else 0. */
static int pending_stop(void)
{
    sigset_t set;
    sigpending(&set);
    for (int sig = 1; sig < NSIG; sig++)
        if (ft_stop_signal_kind(sig) && sigismember(&set, sig) == 1)
            return sig;
    return 0;
}

static void hit_report(ft_vm *vm, const ft_prog *p)
{
    char line[1024];
    ft_vm_write_output(vm, "----- probe hit report: \n", 25);
    for (uint32_t i = 0; i < p->nprobes; i++) {
        ft_i64 hits = ft_vm_probe_hits(vm, (int)i);
        if (!hits)
            continue;
        int n = snprintf(line, sizeof line, "%s, hits: %lld, ns: %lldmin/%lldavg/%lldmax, index: %u\n",
                         ft_prog_str(p, p->probes[i].name), (long long)hits, (long long)ft_vm_probe_time(vm, (int)i, 1),
                         (long long)(ft_vm_probe_time(vm, (int)i, 0) / hits), (long long)ft_vm_probe_time(vm, (int)i, 2),
                         i);
        ft_vm_write_output(vm, line, n < (int)sizeof line ? n : (int)sizeof line - 1);
    }
}

int main(int argc, char **argv)
{
    const char *out = NULL, *cmd = NULL;
    double timeout = 0;
    long long buffer_mb = 0;
    int timing = 0, warnings_fatal = 0, bulk = 0, opt;
    long long size_mb = 0, keep_files = 0;              /* -S SIZE[,N] */
    ft_limits lim;
    ft_limits_default(&lim);
    int check_only = 0;
    int list_active = 0, describe = 0, ngdefs = 0;
    gdef gdefs[MAX_G];
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {"check", no_argument, NULL, 'C'},
                                          {"list-active", no_argument, NULL, 'L'},
                                          {"describe", no_argument, NULL, 'K'}, {NULL, 0, NULL, 0}};
    while ((opt = getopt_long(argc, argv, "+o:S:x:c:T:s:D:G:tWbh", longs, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'o': out = optarg; break;
        case 'S':
            size_mb = strtoll(optarg, &end, 10);
            if (end != optarg && *end == ',' && end[1])
                keep_files = strtoll(end + 1, &end, 10);
            if (end == optarg || *end || size_mb < 1 || keep_files < 0 || keep_files > 1000000)
                return die("-S %s: expects SIZE[,N], SIZE at least 1 (MB)%s", optarg, "");
            end = NULL;
            break;
        case 'c': cmd = optarg; break;
        case 'x': lim.target_pid = strtoll(optarg, &end, 10); break;
        case 'T': timeout = strtod(optarg, &end); break;
        case 's': buffer_mb = strtoll(optarg, &end, 10); break;
        case 'D':
            if (set_limit(&lim, optarg))
                return die("-D %s: not a number%s", optarg, "");
            break;
        case 'G':
            if (rt_add_gdef(gdefs, &ngdefs, optarg))
                return 1;
            break;
        case 't': timing = 1; break;
        case 'W': warnings_fatal = 1; break;
        case 'b': bulk = 1; break;
        case 'h': usage(stdout); return 0;
        case 'C': check_only = 1; break;
        case 'L': list_active = 1; break;
        case 'K': describe = 1; break;
        default: usage(stderr); return 1;
        }
        if (end && (end == optarg || *end))
            return die("-%s: '%s' is not a number", (char[]){(char)opt, 0}, optarg);
    }
    if (describe && optind == argc) {
        char err[256];
        if (ft_describe(1, err, (int)sizeof err) != 0)
            return die("%s%s", err, "");
        return 0;
    }
    if (list_active && optind == argc) {
        char err[RT_ERR];
        const char *root = rt_tracefs(err, sizeof err);
        if (!root)
            return die("%s%s", err, "");
        return rt_list_active(root);
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 1;
    }
    image_path = argv[optind];
    if (size_mb && (!out || bulk))
        return die("-S %s%s", out ? "cannot be used with -b (rotating per-CPU files is not implemented)"
                                  : "needs an output file: -o FILE", "");

    /* every signal that ends a session, blocked from now on (see the top) */
    sigset_t stops;
    sigemptyset(&stops);
    for (int sig = 1; sig < NSIG; sig++)
        if (ft_stop_signal_kind(sig))
            sigaddset(&stops, sig);
    sigprocmask(SIG_BLOCK, &stops, NULL);
    signal(SIGPIPE, SIG_IGN);          /* a closed output is EPIPE (native/out.c) */

    size_t len = 0;
    char *image = read_image(image_path, &len), err[RT_ERR];
    if (!image)
        return 1;
    ft_prog *prog = ft_prog_load(image, (ft_i64)len, err, sizeof err);
    free(image);
    if (!prog)
        return die("%s: %s", image_path, err);
    for (uint32_t e = 0; e < prog->nevents; e++) {     /* every one, as image/format.py does */
        if (rt_check_event(prog, &prog->events[e], err, sizeof err)) {
            fprintf(stderr, "error: %s: bad program image: event %u: %s\n", image_path, e, err);
            ft_prog_free(prog);
            return 1;
        }
    }
    if (check_only) {                  /* --check: the image is sound; nothing runs (fuzz tests) */
        ft_prog_free(prog);
        return 0;
    }
    if (ft_prog_kernel_mismatch(prog, err, sizeof err)) {
        ft_prog_free(prog);
        return die("%s: %s", image_path, err);
    }
    if (rt_find_globals(prog, gdefs, ngdefs)) {
        ft_prog_free(prog);
        return 1;
    }
    rt_live L = {.prog = prog, .task_pid = -1};
    L.ncpus = rt_online_cpus(&L.cpus);
    if (L.ncpus <= 0)
        return die("cannot read the online CPUs%s%s", "", "");
    int out_fd = 1, *bulk_fds = NULL, nbulk = 0;
    if (bulk ? open_bulk(out, L.cpus, L.ncpus, &bulk_fds, &nbulk)
             : out && !size_mb && (out_fd = open_output(out, 1)) < 0)     /* -S: FILE.0, opened below */
        return 1;
    ft_vm *vm = ft_vm_new(prog, &lim, out_fd, 2, err, sizeof err);
    if (!vm)
        return die("%s: %s", image_path, err);
    if (bulk && ft_vm_set_bulk(vm, bulk_fds, nbulk) != FT_OK)
        return die("-b: no per-CPU output file to write to%s%s", "", "");
    if (!bulk && out && ft_vm_set_rotation(vm, out, size_mb << 20, (int)keep_files, err, (int)sizeof err) != FT_OK)
        return die("%s%s", err, "");
    if (timing)
        ft_vm_set_timing(vm, 1);
    if (rt_set_globals(vm, prog, gdefs, ngdefs)) {
        ft_vm_free(vm);
        ft_prog_free(prog);
        free(L.cpus);
        return 1;
    }
    L.vm = vm;
    command c = {cmd, vm, &stops};
    ft_i64 ring = RING_BUDGET / L.ncpus;
    L.ring_bytes = buffer_mb > 0 ? buffer_mb << 20 : ring < RING_MIN ? RING_MIN : ring > RING_MAX ? RING_MAX : ring;

    int status = 1, sig = 0;
    ft_i64 lost = 0;
    if (rt_live_start(&L, cmd ? start_command : NULL, &c, err, sizeof err) != 0)
        fprintf(stderr, "error: %s\n", err);
    else if ((sig = pending_stop()) != 0)
        status = 128 + sig;            /* interrupted before the session ran (cli.py: Interrupted) */
    else {
        status = ft_run(vm, (ft_i64)(timeout * 1e9));
        lost = ft_event_lost(vm, -1);
        sig = ft_vm_stop_signal(vm);
        if (!sig)
            sig = pending_stop();      /* it came while begin or end probes ran */
        if (ft_stop_signal_kind(sig) == 2)
            status = 128 + sig;
    }
    rt_live_close(&L);
    int child_pid = L.child_pid;
    int st = child_pid > 0 ? reap(child_pid, ft_vm_child_status(vm)) : -1;
    if (st > 0) {                      /* command_failure(): stap's warning, exit 1 */
        if (WIFSIGNALED(st))
            fprintf(stderr, "WARNING: Child process exited with signal %d (%s)\n", WTERMSIG(st),
                    strsignal(WTERMSIG(st)));
        else if (WIFEXITED(st))
            fprintf(stderr, "WARNING: Child process exited with status %d\n", WEXITSTATUS(st));
        if (!status)
            status = 1;
    }
    if (timing)
        hit_report(vm, prog);
    if (warnings_fatal && lost && !status)
        status = 1;
    ft_vm_flush(vm);
    ft_vm_free(vm);
    ft_prog_free(prog);
    free(L.cpus);
    if (out_fd != 1)
        close(out_fd);
    for (int i = 0; bulk_fds && i < nbulk; i++)
        if (bulk_fds[i] >= 0)
            close(bulk_fds[i]);
    free(bulk_fds);
    return status;
}
