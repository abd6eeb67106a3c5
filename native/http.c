/* A small HTTP/1.1 server for procfs probes, run by the event loop itself.
 *
 * Why in the loop's thread, in C: a procfs read runs a probe handler in the
 * VM, which only the loop's thread may touch while events flow.  A Python
 * thread would have to hand each request to the loop (a pipe or eventfd it
 * watches) and wait for the answer: two context switches and the GIL per
 * request, and Python on the path of every scrape.  Here the listening
 * sockets, every connection and a 1 s sweep timer live in one epoll set of
 * the server's own, and that one fd is what the loop watches
 * (ft_loop_watch_fd): when a client is ready the loop calls on_ready
 * between two batches of records, the handler sees every event up to now
 * (procfs.c drains the rings first), and the loop goes back to its rings.
 * Nothing blocks: sockets are non-blocking, output that does not fit in the
 * socket waits for EPOLLOUT, so a slow client costs a buffer, not time.
 *
 * Limits (a root process facing the network): request head <= 8 KiB, body
 * <= 1 MiB, 256 connections, 10 s to send a request (and 10 s idle on a
 * kept-alive connection), no chunked uploads (411), read contents capped
 * at 64 MiB whatever .maxsize says.
 *
 * Routes: GET|HEAD / lists the files; GET|HEAD /procfs/NAME runs NAME's
 * read probe; PUT|POST /procfs/NAME runs its write probe with the body;
 * GET /metrics runs the read probe of "prometheus" (the prometheus alias).
 * Permissions: a client on the TCP address --http names was let in by the
 * operator and gets the file's owner bits; a client on the Unix socket gets
 * the owner bits if it runs as root or as ftstap's user (SO_PEERCRED), the
 * "other" bits otherwise -- so .umask(M) means what it means in stap. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "program.h"
#include "session.h"
#include "procfs.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#define MAX_CONNS 256
#define MAX_HEAD 8192
#define MAX_BODY (1 << 20)
#define MAX_CONTENT (64 << 20)
#define DEADLINE_NS 10000000000ll
#define TAG_TCP 0
#define TAG_UNIX 1
#define TAG_SWEEP 2
#define TAG_CONN 16

struct conn {
    int fd;                    /* -1: free */
    int local;                 /* on the Unix socket */
    int owner;                 /* gets the owner's permission bits */
    char *in;
    size_t len, cap;
    char *out;
    size_t olen, ooff, ocap;
    int closing;               /* close once out is sent */
    ft_i64 deadline;
};

struct ft_http {
    int ep, tcp, ux, sweep;
    char *unix_path;
    struct conn c[MAX_CONNS];
    ft_i64 count[6];           /* responses by status class */
};

static ft_i64 now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ft_i64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int add(int ep, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void drop(struct ft_http *h, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    free(c->in);
    free(c->out);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static int out_put(struct conn *c, const char *s, size_t n)
{
    if (c->olen + n > c->ocap) {
        size_t cap = c->ocap ? c->ocap : 4096;
        while (cap < c->olen + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->ocap = cap;
    }
    memcpy(c->out + c->olen, s, n);
    c->olen += n;
    return 0;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void respond(struct ft_http *h, struct conn *c, int status, const char *type, const char *body,
                    size_t n, int head_only, const char *extra)
{
    char hdr[512];
    int k = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d %s\r\nServer: ftstap\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n%s%s\r\n", status, reason(status),
                     type ? type : "text/plain; charset=utf-8", n, extra ? extra : "",
                     c->closing ? "Connection: close\r\n" : "");
    if (out_put(c, hdr, (size_t)k) || (!head_only && n && out_put(c, body, n)))
        c->closing = 1;
    h->count[status / 100 < 6 ? status / 100 : 5]++;
}

static void error_response(struct ft_http *h, struct conn *c, int status, int close_it, const char *extra)
{
    char body[128];
    int n = snprintf(body, sizeof body, "%d %s\n", status, reason(status));
    if (close_it)
        c->closing = 1;
    respond(h, c, status, NULL, body, (size_t)n, 0, extra);
}

static int hexval(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* %XX-decode [s, s+n) into out (cap bytes); its length, or -1 */
static int url_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (ch == 0 || k + 1 >= cap)
            return -1;
        out[k++] = (char)ch;
    }
    out[k] = '\0';
    return (int)k;
}

static void list_files(ft_vm *vm, struct ft_http *h, struct conn *c, int head_only)
{
    const ft_prog *p = vm->prog;
    struct conn tmp = {.fd = -1};
    for (uint32_t i = 0; i < p->nprobes; i++) {
        int k = p->probes[i].kind;
        if (k != FT_PROBE_PROCFS_READ && k != FT_PROBE_PROCFS_WRITE)
            continue;
        const char *f = p->strs[p->probes[i].event].s;
        if (ft_procfs_find(vm, f, strlen(f), k == FT_PROBE_PROCFS_WRITE, NULL) != (int)i)
            continue;
        char line[600];
        int n = snprintf(line, sizeof line, "%s %s %04o\n", k == FT_PROBE_PROCFS_READ ? "read " : "write",
                         f, ft_procfs_mode(vm, f, strlen(f)));
        out_put(&tmp, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
    }
    respond(h, c, 200, NULL, tmp.out ? tmp.out : "", tmp.olen, head_only, NULL);
    free(tmp.out);
}

/* Run one complete request: method, path, body. */
static void serve(ft_vm *vm, struct ft_http *h, struct conn *c, const char *method, const char *path,
                  size_t plen, const char *body, size_t blen)
{
    int get = !strcmp(method, "GET"), head = !strcmp(method, "HEAD");
    int put = !strcmp(method, "PUT") || !strcmp(method, "POST");
    const char *q = memchr(path, '?', plen);
    if (q)
        plen = (size_t)(q - path);
    char name[512];
    const char *type = NULL;
    if (plen == 1 && path[0] == '/') {
        if (!get && !head)
            return error_response(h, c, 405, 0, "Allow: GET, HEAD\r\n");
        return list_files(vm, h, c, head);
    }
    if (plen == 8 && !memcmp(path, "/metrics", 8)) {
        strcpy(name, "prometheus");
        type = "text/plain; version=0.0.4; charset=utf-8";
        if (!get && !head)
            return error_response(h, c, 405, 0, "Allow: GET, HEAD\r\n");
    } else if (plen > 8 && !memcmp(path, "/procfs/", 8)) {
        if (url_decode(path + 8, plen - 8, name, sizeof name) <= 0)
            return error_response(h, c, 404, 0, NULL);
    } else {
        return error_response(h, c, 404, 0, NULL);
    }
    if (!get && !head && !put)
        return error_response(h, c, 405, 0, "Allow: GET, HEAD, PUT, POST\r\n");
    int exists, probe = ft_procfs_find(vm, name, strlen(name), put, &exists);
    if (!exists)
        return error_response(h, c, 404, 0, NULL);
    if (probe < 0)
        return error_response(h, c, 405, 0, put ? "Allow: GET, HEAD\r\n" : "Allow: PUT, POST\r\n");
    int mode = ft_procfs_mode(vm, name, strlen(name));
    int need = put ? (c->owner ? 0200 : 0002) : (c->owner ? 0400 : 0004);
    if (!(mode & need))
        return error_response(h, c, 403, 0, NULL);
    if (vm->exit_requested || vm->error_state)
        return error_response(h, c, 503, 1, NULL);
    if (put) {
        ft_procfs_io io = {body, (ft_i64)blen, NULL, 0, 0};
        if (ft_procfs_run(vm, probe, &io))
            return error_response(h, c, 500, 0, NULL);
        return respond(h, c, 204, NULL, "", 0, 1, NULL);
    }
    ft_i64 max = ft_procfs_maxsize(vm, probe);
    if (max > MAX_CONTENT)
        max = MAX_CONTENT;
    char *buf = malloc((size_t)max + 1);
    if (!buf)
        return error_response(h, c, 503, 0, NULL);
    ft_procfs_io io = {NULL, 0, buf, 0, max};
    if (ft_procfs_run(vm, probe, &io))
        error_response(h, c, 500, 0, NULL);
    else
        respond(h, c, 200, type, buf, (size_t)io.out_len, head, NULL);
    free(buf);
}

/* Handle every complete request in c->in; 0 while more may come. */
static void parse(ft_vm *vm, struct ft_http *h, struct conn *c)
{
    while (!c->closing && c->ooff == c->olen) {
        size_t scan = c->len < MAX_HEAD ? c->len : MAX_HEAD;
        char *end = scan >= 4 ? memmem(c->in, scan, "\r\n\r\n", 4) : NULL;
        if (!end) {
            if (c->len >= MAX_HEAD)
                error_response(h, c, 431, 1, NULL);
            return;
        }
        size_t hlen = (size_t)(end - c->in) + 4;
        char head[MAX_HEAD + 1];                 /* parsed in a copy: the body may still be coming */
        memcpy(head, c->in, hlen - 2);
        head[hlen - 2] = '\0';
        char *line_end = strstr(head, "\r\n");
        *line_end = '\0';
        char method[16], version[16];
        char *sp1 = strchr(head, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2 || sp1 - head >= (long)sizeof method || strlen(sp2 + 1) >= sizeof version ||
            sp1[1] != '/')
            return error_response(h, c, 400, 1, NULL);
        memcpy(method, head, (size_t)(sp1 - head));
        method[sp1 - head] = '\0';
        strcpy(version, sp2 + 1);
        int v11 = !strcmp(version, "HTTP/1.1");
        if (!v11 && strcmp(version, "HTTP/1.0"))
            return error_response(h, c, 505, 1, NULL);
        long long clen = 0;
        int keep = v11, bad = 0;
        for (char *l = line_end + 2; *l;) {
            char *e = strstr(l, "\r\n");
            if (e)
                *e = '\0';
            char *colon = strchr(l, ':');
            if (colon) {
                char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                    v++;
                size_t kl = (size_t)(colon - l);
                if (kl == 14 && !strncasecmp(l, "Content-Length", 14)) {
                    char *ep;
                    errno = 0;
                    clen = strtoll(v, &ep, 10);
                    if (errno || ep == v || clen < 0)
                        bad = 400;
                } else if (kl == 17 && !strncasecmp(l, "Transfer-Encoding", 17)) {
                    bad = 411;
                } else if (kl == 10 && !strncasecmp(l, "Connection", 10)) {
                    if (!strcasecmp(v, "close"))
                        keep = 0;
                    else if (!strcasecmp(v, "keep-alive"))
                        keep = 1;
                }
            }
            if (!e)
                break;
            l = e + 2;
        }
        if (bad)
            return error_response(h, c, bad, 1, NULL);
        if (clen > MAX_BODY)
            return error_response(h, c, 413, 1, NULL);
        if (c->len < hlen + (size_t)clen)
            return;                              /* the rest of the body is still coming */
        if (!keep)
            c->closing = 1;
        serve(vm, h, c, method, sp1 + 1, (size_t)(sp2 - sp1 - 1), c->in + hlen, (size_t)clen);
        size_t used = hlen + (size_t)clen;
        memmove(c->in, c->in + used, c->len - used);
        c->len -= used;
        c->deadline = now_ns() + DEADLINE_NS;
    }
}

/* Send what is pending; drop the connection when done and closing. */
static void flush_out(struct ft_http *h, struct conn *c, int idx)
{
    while (c->ooff < c->olen) {
        ssize_t n = send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->ooff += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = TAG_CONN + (uint64_t)idx};
            epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return drop(h, c);
    }
    c->ooff = c->olen = 0;
    if (c->closing) {                /* a short lingering close: unread input would reset the answer */
        char sink[4096];
        shutdown(c->fd, SHUT_WR);
        for (int k = 0; k < 64 && recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) > 0; k++)
            ;
        return drop(h, c);
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_CONN + (uint64_t)idx};
    epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_conn(ft_vm *vm, struct ft_http *h, int idx, uint32_t events)
{
    struct conn *c = &h->c[idx];
    if (c->fd < 0)
        return;
    if (c->ooff < c->olen) {
        flush_out(h, c, idx);
        if (c->fd < 0 || c->ooff < c->olen)
            return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
            if (c->len == c->cap) {
                if (c->cap >= MAX_HEAD + MAX_BODY) {
                    error_response(h, c, 413, 1, NULL);
                    break;
                }
                size_t cap = c->cap ? c->cap * 2 : 4096;
                char *p = realloc(c->in, cap + 1);
                if (!p)
                    return drop(h, c);
                c->in = p;
                c->cap = cap;
            }
            ssize_t n = recv(c->fd, c->in + c->len, c->cap - c->len, MSG_DONTWAIT);
            if (n > 0) {
                c->len += (size_t)n;
                parse(vm, h, c);
                if (c->closing || c->ooff < c->olen)
                    break;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            return drop(h, c);                   /* EOF or error */
        }
    }
    flush_out(h, c, idx);
}

static void on_accept(struct ft_http *h, int lfd, int local)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int idx = -1;
        for (int i = 0; i < MAX_CONNS; i++)
            if (h->c[i].fd < 0) {
                idx = i;
                break;
            }
        if (idx < 0) {
            static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                       "Connection: close\r\n\r\n";
            if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                (void)0;
            close(fd);
            h->count[5]++;
            continue;
        }
        struct conn *c = &h->c[idx];
        c->fd = fd;
        c->local = local;
        c->owner = !local;
        if (local) {
            struct ucred cred;
            socklen_t len = sizeof cred;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                c->owner = cred.uid == 0 || cred.uid == geteuid();
        }
        c->deadline = now_ns() + DEADLINE_NS;
        if (add(h->ep, fd, EPOLLIN, TAG_CONN + (uint64_t)idx))
            drop(h, c);
    }
}

static void sweep(struct ft_http *h)
{
    uint64_t n;
    if (read(h->sweep, &n, sizeof n) < 0)
        (void)0;
    ft_i64 now = now_ns();
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &h->c[i];
        if (c->fd < 0 || c->deadline > now)
            continue;
        if (c->len && c->ooff == c->olen) {       /* a request half sent: say so, then close */
            error_response(h, c, 408, 1, NULL);
            flush_out(h, c, i);
            if (c->fd >= 0)
                drop(h, c);
        } else {
            drop(h, c);
        }
    }
}

static int on_ready(ft_vm *vm, int fd, void *arg)
{
    struct ft_http *h = arg;
    struct epoll_event evs[64];
    int n = epoll_wait(fd, evs, 64, 0);
    for (int k = 0; k < n; k++) {
        uint64_t tag = evs[k].data.u64;
        if (tag == TAG_TCP)
            on_accept(h, h->tcp, 0);
        else if (tag == TAG_UNIX)
            on_accept(h, h->ux, 1);
        else if (tag == TAG_SWEEP)
            sweep(h);
        else if (tag >= TAG_CONN && tag < TAG_CONN + MAX_CONNS)
            on_conn(vm, h, (int)(tag - TAG_CONN), evs[k].events);
    }
    return 0;
}

void ft_http_free(struct ft_http *h)
{
    if (!h)
        return;
    for (int i = 0; i < MAX_CONNS; i++)
        drop(h, &h->c[i]);
    if (h->tcp >= 0)
        close(h->tcp);
    if (h->ux >= 0)
        close(h->ux);
    if (h->unix_path)
        unlink(h->unix_path);
    free(h->unix_path);
    if (h->sweep >= 0)
        close(h->sweep);
    if (h->ep >= 0)
        close(h->ep);
    free(h);
}

void ft_http_close(ft_vm *vm)
{
    ft_session *S = vm->session;
    if (!S || !S->http)
        return;
    ft_http_free(S->http);
    S->http = NULL;
}

ft_i64 ft_http_count(const ft_vm *vm, int which)
{
    const ft_session *S = vm->session;
    return S && S->http && which >= 0 && which < 6 ? S->http->count[which] : 0;
}

static int fail(struct ft_http *h, char *err, int errlen, const char *what, int e)
{
    if (err && errlen > 0)
        snprintf(err, (size_t)errlen, "%s: %s", what, strerror(e));
    ft_http_free(h);
    return -(e ? e : EINVAL);
}

int ft_http_serve(ft_vm *vm, const char *host, int port, const char *unix_path, char *err, int errlen)
{
    ft_session *S = ft_session_of(vm);
    if (!S)
        return FT_ENOMEM;
    if (S->http)
        return fail(NULL, err, errlen, "the HTTP server is already running", EBUSY);
    struct ft_http *h = calloc(1, sizeof *h);
    if (!h)
        return FT_ENOMEM;
    h->tcp = h->ux = h->sweep = -1;
    for (int i = 0; i < MAX_CONNS; i++)
        h->c[i].fd = -1;
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    if (h->ep < 0)
        return fail(h, err, errlen, "epoll", errno);
    int bound = 0;
    if (host) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
        char ps[16];
        snprintf(ps, sizeof ps, "%d", port);
        int rc = getaddrinfo(*host ? host : NULL, ps, &hints, &ai);
        if (rc) {
            if (err && errlen > 0)
                snprintf(err, (size_t)errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
            ft_http_free(h);
            return -EINVAL;
        }
        h->tcp = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (h->tcp >= 0)
            setsockopt(h->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (h->tcp < 0 || bind(h->tcp, ai->ai_addr, ai->ai_addrlen) || listen(h->tcp, 128)) {
            int e = errno;
            freeaddrinfo(ai);
            char what[300];
            snprintf(what, sizeof what, "cannot listen on %s:%d", host, port);
            return fail(h, err, errlen, what, e);
        }
        freeaddrinfo(ai);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(h->tcp, (struct sockaddr *)&ss, &sl);
        bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
        if (add(h->ep, h->tcp, EPOLLIN, TAG_TCP))
            return fail(h, err, errlen, "epoll", errno);
    }
    if (unix_path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(unix_path) >= sizeof sa.sun_path)
            return fail(h, err, errlen, "socket path too long", ENAMETOOLONG);
        strcpy(sa.sun_path, unix_path);
        h->ux = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        /* bind() never follows a symlink: it fails with EADDRINUSE on anything there */
        if (h->ux < 0 || bind(h->ux, (struct sockaddr *)&sa, sizeof sa))
            return fail(h, err, errlen, unix_path, errno);
        h->unix_path = strdup(unix_path);
        if (!h->unix_path || listen(h->ux, 128) || add(h->ep, h->ux, EPOLLIN, TAG_UNIX))
            return fail(h, err, errlen, unix_path, errno);
    }
    h->sweep = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {{1, 0}, {1, 0}};
    if (h->sweep < 0 || timerfd_settime(h->sweep, 0, &its, NULL) || add(h->ep, h->sweep, EPOLLIN, TAG_SWEEP))
        return fail(h, err, errlen, "timerfd", errno);
    int rc = ft_loop_watch_fd(vm, h->ep, on_ready, h);
    if (rc)
        return fail(h, err, errlen, "cannot watch the server in the event loop", EINVAL);
    S->http = h;
    return bound;
}
