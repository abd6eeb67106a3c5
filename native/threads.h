/* The thread map (threads.c): each task as it was at the event being
 * handled, fed in time order by FORK/COMM/EXIT records, from /proc at the
 * start and as a fallback.  A leaf: it calls nothing of the VM or the
 * event session, so both may use it. */
#ifndef FT_THREADS_H
#define FT_THREADS_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stdint.h>
#include <limits.h>

enum { FT_TASK_EMPTY = 0, FT_TASK_ALIVE = 1, FT_TASK_EXITED = 2 };
#define FT_NS_UNREAD INT32_MIN
#define FT_TASK_UNSEEN 1             /* forked from a task the map never held */
typedef struct ft_thread {
    int32_t tid, pid, ppid;          /* ppid: the parent process; -1 unknown */
    int32_t uid, euid, gid, egid;    /* -1: unknown */
    int32_t ns_pid, ns_tid;          /* in the target pid namespace (nsmap.h); FT_NS_UNREAD */
    uint8_t state, flags;
    uint8_t abi;                     /* FT_ABI_*: of the program the task runs */
    char comm[16];
} ft_thread;
enum { FT_ABI_UNKNOWN = 0, FT_ABI_NATIVE = 1, FT_ABI_COMPAT = 2 };
typedef struct ft_threads ft_threads;
ft_threads *ft_threads_new(void);
void ft_threads_free(ft_threads *T);
/* Every task in /proc now; returns how many (-1: no /proc). */
int ft_threads_snapshot(ft_threads *T);
/* PERF_RECORD_FORK: tid (of process pid) created by ptid (of process ppid). */
void ft_threads_fork(ft_threads *T, int pid, int ppid, int tid, int ptid);
/* PERF_RECORD_COMM: tid now runs as comm (n bytes, may lack a NUL); exec: it exec'd. */
void ft_threads_comm(ft_threads *T, int pid, int tid, const char *comm, int n, int exec);
/* PERF_RECORD_EXIT: the task keeps its identity for records still to come. */
void ft_threads_exit(ft_threads *T, int pid, int tid);
/* The task (pid <= 0: any process), or NULL when unknown and gone from /proc.
   T may be NULL: then /proc alone answers, into a scratch entry. */
const ft_thread *ft_threads_get(ft_threads *T, int pid, int tid);
/* Does process pid run a 32-bit (compat) program, whose system call
   numbers are not the native ones?  Read once per exec from the ELF class
   of /proc/PID/exe; a process already gone counts as native. */
int ft_threads_compat(ft_threads *T, int pid);
/* How many tasks had to be read from /proc after the snapshot. */
ft_i64 ft_threads_from_proc(const ft_threads *T);
/* Read a small /proc file of thread tid of pid (e.g. "comm", "status")
   into buf, NUL-terminated; returns its length, -1 if it cannot be read. */
int ft_proc_read(long long pid, long long tid, const char *file, char *buf, int cap);
/* Column col of the line starting with key ("Uid:") of
   /proc/PID/task/TID/status into *out; 0, or -1 when it cannot be read. */
int ft_proc_status(ft_i64 pid, ft_i64 tid, const char *key, int col, ft_i64 *out);

#endif
