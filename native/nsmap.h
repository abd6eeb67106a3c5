/* Target namespaces (nsmap.c): stap's ns_pid(), ns_tid(), ns_ppid(),
 * ns_pgid(), ns_sid(), ns_uid()... answer in the pid and user namespaces
 * of the process --target-namespaces=PID names, ftstap's own without it.
 * The event's task is known by its pid in ftstap's namespace (the thread
 * map, threads.h); its pid and tid in the target namespace are read once
 * per task from the NStgid/NSpid lines of /proc/.../status and kept in the
 * map's entry (ft_thread.ns_pid/ns_tid). */
#ifndef FT_NSMAP_H
#define FT_NSMAP_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include "threads.h"

/* threads.c: a task's status text was read (snapshot, exec, first use):
   keep its ids in the target namespace when a target is set. */
void ft_ns_from_status(ft_thread *t, int pid, int tid, const char *status);

struct ft_str;
#define FT_NSB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, struct ft_str *const *sa, ft_i64 *iret, struct ft_str *sret)
FT_NSB(_ns_id);
FT_NSB(_task_ns_id);
/* _ns_id(which): 0 pid, 1 tid, 2 ppid, 3 pgid, 4 sid, 5 uid, 6 euid, 7 gid, 8 egid;
   _task_ns_id(task, which): the same of the thread a task handle names */
#define FT_NS_BUILTINS \
    {"_ns_id", "i", 'i', ft_b__ns_id}, \
    {"_task_ns_id", "ii", 'i', ft_b__task_ns_id},
#endif
