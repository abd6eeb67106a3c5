"""The syscall tapset table (format: probes/sysdefs.py).  Names, types and
formatting follow stap's tapset reference; the expressions are ftstap's."""

TABLE = r"""
accept: sockfd=$fd addr_uaddr=$upeer_sockaddr addrlen_uaddr=$upeer_addrlen flags<=2.5=0 flags_str<=2.5="0" | %d:sockfd, %p:addr_uaddr, %p:addrlen_uaddr
accept4: sockfd=$fd addr_uaddr=$upeer_sockaddr addrlen_uaddr=$upeer_addrlen flags_str=_sock_flags_str($flags) | %d:sockfd, %p:addr_uaddr, %p:addrlen_uaddr, %s:flags_str
access: pathname=user_string_quoted($filename) mode_str=_access_mode_str($mode) | %s:pathname, %s:mode_str
acct: filename=user_string_quoted($name) | %s:filename
add_key: type_uaddr=$_type description_uaddr=$_description payload_uaddr=$_payload | %s:user_string_quoted(type_uaddr), %s:user_string_quoted(description_uaddr), %p:payload_uaddr, %d:$plen, %d:$ringid
adjtimex: buf_uaddr=$txc_p buf_str=_ftstap_ptr_str(buf_uaddr) | %p:buf_uaddr
arch_prctl: code=$option code_str=_arch_prctl_code_str(code) addr=$arg2 | %s:code_str, %u:addr
bind: sockfd=$fd my_addr_uaddr=$umyaddr uaddr_af=_struct_sockaddr_u_sa_family(my_addr_uaddr,$addrlen) uaddr_ip=_struct_sockaddr_u_ip_addr(my_addr_uaddr,$addrlen) uaddr_ip_port=_struct_sockaddr_u_tcp_port(my_addr_uaddr,$addrlen) | %d:sockfd, %s:_struct_sockaddr_u(my_addr_uaddr,$addrlen), %d:$addrlen
bpf: cmd_str=_stp_bpf_cmd_str($cmd) attr_uaddr=$uattr | %s:cmd_str, %p:attr_uaddr, %u:$size
capget: header_uaddr=$header data_uaddr=$dataptr | %p:header_uaddr, %p:data_uaddr
capset: header_uaddr=$header data_uaddr=$data | %p:header_uaddr, %p:data_uaddr
chdir: path=user_string_quoted($filename) | %s:path
chmod: path=user_string_quoted($filename) | %s:path, %#o:$mode
chown: path=user_string_quoted($filename) owner=_ftstap_id($user) group=_ftstap_id($group) | %s:path, %d:owner, %d:group
lchown: path=user_string_quoted($filename) owner=_ftstap_id($user) group=_ftstap_id($group) | %s:path, %d:owner, %d:group
fchown: owner=_ftstap_id($user) group=_ftstap_id($group) | %d:$fd, %d:owner, %d:group
chroot: path=user_string_quoted($filename) | %s:path
clock_adjtime: clk_id=$which_clock clk_id_str=_clockid_str(clk_id) tx_uaddr=$utx tx_uaddr_str=_ftstap_ptr_str(tx_uaddr) | %s:clk_id_str, %p:tx_uaddr
clock_getres: clk_id=$which_clock clk_id_str=_clockid_str(clk_id) res_uaddr=$tp | %s:clk_id_str, %p:res_uaddr
clock_gettime: clk_id=$which_clock clk_id_str=_clockid_str(clk_id) tp_uaddr=$tp | %s:clk_id_str, %p:tp_uaddr
clock_settime: clk_id=$which_clock clk_id_str=_clockid_str(clk_id) tp_uaddr=$tp tp_uaddr_str=_struct_timespec_u(tp_uaddr,1) | %s:clk_id_str, %s:tp_uaddr_str
clock_nanosleep: clk_id=$which_clock clk_id_str=_clockid_str(clk_id) flags_str=_stp_clock_nanosleep_flags_str($flags) flag_str<=2.6=flags_str req_uaddr=$rqtp rem_uaddr=$rmtp req_str=_struct_timespec_u(req_uaddr,1) | %s:clk_id_str, %s:flags_str, %s:req_str, %p:rem_uaddr
nanosleep: req_uaddr=$rqtp rem_uaddr=$rmtp req_str=_struct_timespec_u(req_uaddr,1) | %s:req_str, %p:rem_uaddr
clone: clone_flags=$clone_flags stack_start=$newsp parent_tid_uaddr=$parent_tidptr child_tid_uaddr=$child_tidptr | %s:_clone_flags_str(clone_flags), %p:stack_start, %p:parent_tid_uaddr, %p:child_tid_uaddr, %p:$tls
connect: sockfd=$fd serv_addr_uaddr=$uservaddr uaddr_af=_struct_sockaddr_u_sa_family(serv_addr_uaddr,$addrlen) uaddr_ip=_struct_sockaddr_u_ip_addr(serv_addr_uaddr,$addrlen) uaddr_ip_port=_struct_sockaddr_u_tcp_port(serv_addr_uaddr,$addrlen) | %d:sockfd, %s:_struct_sockaddr_u(serv_addr_uaddr,$addrlen), %d:$addrlen
creat: pathname=user_string_quoted($pathname) | %s:pathname, %#o:$mode
dup: oldfd=$fildes | %d:oldfd
dup2: flags=0 flags_str="0" | %d:$oldfd, %d:$newfd
dup3: flags_str=_dup3_flag_str($flags) | %d:$oldfd, %d:$newfd, %s:flags_str
epoll_create: flags=0 | %d:$size
epoll_ctl: op_str=_epoll_ctl_op_str($op) event_uaddr=$event | %d:$epfd, %s:op_str, %d:$fd, %p:event_uaddr
epoll_pwait: events_uaddr=$events sigmask_uaddr=$sigmask | %d:$epfd, %p:events_uaddr, %d:$maxevents, %d:$timeout, %p:sigmask_uaddr, %d:$sigsetsize
epoll_wait: events_uaddr=$events | %d:$epfd, %p:events_uaddr, %d:$maxevents, %d:$timeout
eventfd: flags=0 flags_str="0" | %u:$count
eventfd2: flags_str=_eventfd_flag_str($flags) | %u:$count, %s:flags_str
execve: filename=user_string_quoted($filename) args=__get_argv($argv,0) env_str=_ftstap_envp_str($envp) | %s:filename, %s:args, %s:env_str
execveat: dirfd=$fd dirfd_str=_dfd_str($fd) filename=user_string_quoted($filename) args=__get_argv($argv,0) env_str=_ftstap_envp_str($envp) flags_str=_at_flag_str($flags) | %s:dirfd_str, %s:filename, %s:args, %s:env_str, %s:flags_str
exit: status=$error_code | %d:status
exit_group: status=$error_code | %d:status
faccessat: dirfd=$dfd dirfd_str=_dfd_str($dfd) pathname=user_string_quoted($filename) mode_str=_access_mode_str($mode) | %s:dirfd_str, %s:pathname, %s:mode_str
faccessat2: dirfd=$dfd dirfd_str=_dfd_str($dfd) pathname=user_string_quoted($filename) mode_str=_access_mode_str($mode) flags_str=_at_flag_str($flags) | %s:dirfd_str, %s:pathname, %s:mode_str, %s:flags_str
fadvise64: advice_str=_fadvice_advice_str($advice) | %d:$fd, %d:$offset, %d:$len, %s:advice_str
fallocate: mode_str=_fallocate_mode_str($mode) | %d:$fd, %s:mode_str, %#x:$offset, %u:$len
fanotify_init: flags_str=_fanotify_init_flags_str($flags) event_f_flags_str=_sys_open_flag_str($event_f_flags) | %s:flags_str, %s:event_f_flags_str
fanotify_mark: flags_str=_fanotify_mark_flags_str($flags) mask_str=_fanotify_mark_mask_str($mask) dirfd=$dfd dirfd_str=_dfd_str($dfd) pathname=user_string_quoted($pathname) | %d:$fanotify_fd, %s:flags_str, %s:mask_str, %s:dirfd_str, %s:pathname
fchmod: fildes=$fd | %d:fildes, %#o:$mode
fchmodat: dirfd=$dfd dirfd_str=_dfd_str($dfd) pathname=user_string_quoted($filename) | %s:dirfd_str, %s:pathname, %#o:$mode
fchownat: dirfd=$dfd dirfd_str=_dfd_str($dfd) pathname=user_string_quoted($filename) owner=_ftstap_id($user) group=_ftstap_id($group) flags=$flag flags_str=_at_flag_str($flag) | %s:dirfd_str, %s:pathname, %d:owner, %d:group, %s:flags_str
fcntl: cmd_str=_fcntl_cmd_str($cmd) | %d:$fd, %s:cmd_str, %p:$arg
fgetxattr: filedes=$fd name_str=user_string_quoted($name) value_uaddr=$value | %d:filedes, %s:name_str, %p:value_uaddr, %u:$size
flistxattr: filedes=$fd list_uaddr=$list | %d:filedes, %p:list_uaddr, %u:$size
flock: operation=$cmd | %d:$fd, %s:_flock_cmd_str(operation)
fremovexattr: filedes=$fd name_str=user_string_quoted($name) | %d:filedes, %s:name_str
fsetxattr: filedes=$fd name_str=user_string_quoted($name) value_uaddr=$value value_str=_stp_xattr_val_str(value_uaddr,$size) flags_str=_xattr_flags_str($flags) | %d:filedes, %s:name_str, %s:value_str, %u:$size, %s:flags_str
fstatfs: buf_uaddr=$buf | %d:$fd, %p:buf_uaddr
futex: futex_uaddr=$uaddr op=$op utime_uaddr=$utime uaddr2_uaddr=$uaddr2 | %p:futex_uaddr, %s:_futex_op_str(op), %u:$val, %p:utime_uaddr, %p:uaddr2_uaddr, %u:$val3
futimesat: dirfd=$dfd dirfd_str=_dfd_str($dfd) filename_uaddr=$filename filename=user_string_quoted($filename) tvp_uaddr=$utimes tvp_str=_struct_timeval_u(tvp_uaddr,2) | %s:dirfd_str, %s:filename, %s:tvp_str
get_mempolicy: policy_uaddr=$policy nmask_uaddr=$nmask | %p:policy_uaddr, %p:nmask_uaddr, %u:$maxnode, %p:$addr, %s:_ftstap_bits($flags,"MPOL_F_NODE=1,MPOL_F_ADDR=2,MPOL_F_MEMS_ALLOWED=4")
get_robust_list: list_head_uaddr=$head_ptr len_uaddr=$len_ptr | %d:$pid, %p:list_head_uaddr, %p:len_uaddr
set_robust_list: list_head_uaddr=$head | %p:list_head_uaddr, %u:$len
getcpu: cpu_uaddr=$cpup node_uaddr=$nodep tcache_uaddr=$unused | %p:cpu_uaddr, %p:node_uaddr, %p:tcache_uaddr
getcwd: buf_uaddr=$buf | %p:buf_uaddr, %u:$size
getdents: dirp_uaddr=$dirent | %d:$fd, %p:dirp_uaddr, %u:$count
getdents64: dirp_uaddr=$dirent | %d:$fd, %p:dirp_uaddr, %u:$count
getgroups: size=$gidsetsize list_uaddr=$grouplist | %d:size, %p:list_uaddr
setgroups: size=$gidsetsize list_uaddr=$grouplist | %d:size, %p:list_uaddr
getitimer: value_uaddr=$value | %s:_itimer_which_str($which), %p:value_uaddr
setitimer: which_str=_itimer_which_str($which) value_uaddr=$value value_str=_struct_itimerval_u(value_uaddr) ovalue_uaddr=$ovalue | %s:which_str, %s:value_str, %p:ovalue_uaddr
getpeername: s=$fd name_uaddr=$usockaddr namelen_uaddr=$usockaddr_len | %d:s, %p:name_uaddr, %p:namelen_uaddr
getsockname: s=$fd name_uaddr=$usockaddr namelen_uaddr=$usockaddr_len | %d:s, %p:name_uaddr, %p:namelen_uaddr
getrandom: buf=user_string_quoted($ubuf) count=$len flags_str=_ftstap_bits($flags,"GRND_NONBLOCK=1,GRND_RANDOM=2,GRND_INSECURE=4") | %p:$ubuf, %u:count, %s:flags_str
getresgid: rgid_uaddr=$rgidp egid_uaddr=$egidp sgid_uaddr=$sgidp | %p:rgid_uaddr, %p:egid_uaddr, %p:sgid_uaddr
getresuid: ruid_uaddr=$ruidp euid_uaddr=$euidp suid_uaddr=$suidp | %p:ruid_uaddr, %p:euid_uaddr, %p:suid_uaddr
getrlimit: rlim_uaddr=$rlim | %s:_rlimit_resource_str($resource), %p:rlim_uaddr
setrlimit: resource_str=_rlimit_resource_str($resource) rlim_uaddr=$rlim rlim_str=_struct_rlimit_u(rlim_uaddr) | %s:resource_str, %s:rlim_str
prlimit64: resource_str=_rlimit_resource_str($resource) new_rlim_uaddr=$new_rlim new_rlim_str=_struct_rlimit_u(new_rlim_uaddr) old_rlim_uaddr=$old_rlim | %d:$pid, %s:resource_str, %s:new_rlim_str, %p:old_rlim_uaddr
getrusage: who_str=_rusage_who_str($who) usage_uaddr=$ru | %s:who_str, %p:usage_uaddr
getsockopt: level_str=_sockopt_level_str($level) optname_str=_sockopt_optname_str($optname) optval_uaddr=$optval optlen_uaddr=$optlen | %d:$fd, %s:level_str, %s:optname_str, %p:optval_uaddr, %p:optlen_uaddr
setsockopt: level_str=_sockopt_level_str($level) optname_str=_sockopt_optname_str($optname) optval_uaddr=$optval | %d:$fd, %s:level_str, %s:optname_str, %p:optval_uaddr, %u:$optlen
gettimeofday: tv_uaddr=$tv tz_uaddr=$tz | %p:tv_uaddr, %p:tz_uaddr
settimeofday: tv_uaddr=$tv tz_uaddr=$tz tv_str=_struct_timeval_u(tv_uaddr,1) tz_str=_struct_timezone_u(tz_uaddr) | %s:tv_str, %s:tz_str
getxattr: path=user_string_quoted($pathname) name_str=user_string_quoted($name) value_uaddr=$value | %s:path, %s:name_str, %p:value_uaddr, %u:$size
lgetxattr: path=user_string_quoted($pathname) name_str=user_string_quoted($name) value_uaddr=$value | %s:path, %s:name_str, %p:value_uaddr, %u:$size
setxattr: path_uaddr=$pathname path=user_string_quoted($pathname) name_str=user_string_quoted($name) value_uaddr=$value value_str=_stp_xattr_val_str(value_uaddr,$size) flags_str=_xattr_flags_str($flags) | %s:path, %s:name_str, %s:value_str, %u:$size, %s:flags_str
lsetxattr: path_uaddr=$pathname path=user_string_quoted($pathname) name_str=user_string_quoted($name) value_uaddr=$value value_str=_stp_xattr_val_str(value_uaddr,$size) flags_str=_xattr_flags_str($flags) | %s:path, %s:name_str, %s:value_str, %u:$size, %s:flags_str
listxattr: path_uaddr=$pathname path=user_string_quoted($pathname) list_uaddr=$list | %s:path, %p:list_uaddr, %u:$size
llistxattr: path_uaddr=$pathname path=user_string_quoted($pathname) list_uaddr=$list | %s:path, %p:list_uaddr, %u:$size
removexattr: path=user_string_quoted($pathname) name_str=user_string_quoted($name) | %s:path, %s:name_str
lremovexattr: path_uaddr=$pathname path=user_string_quoted($pathname) name_str=user_string_quoted($name) | %s:path, %s:name_str
inotify_add_watch: path_uaddr=$pathname path=user_string_quoted($pathname) mask_str=_inotify_watch_mask_str($mask) | %d:$fd, %s:path, %s:mask_str
inotify_init: flags=0 | 
inotify_init1: flags_str=_inotify_init1_flag_str($flags) | %s:flags_str
io_cancel: iocb_uaddr=$iocb result_uaddr=$result | %u:$ctx_id, %p:iocb_uaddr, %p:result_uaddr
io_getevents: events_uaddr=$events timeout_uaddr=$timeout timestr=_struct_timespec_u(timeout_uaddr,1) | %u:$ctx_id, %d:$min_nr, %d:$nr, %p:events_uaddr, %s:timestr
io_setup: maxevents=$nr_events ctxp_uaddr=$ctxp | %u:maxevents, %p:ctxp_uaddr
io_submit: iocbpp_uaddr=$iocbpp | %u:$ctx_id, %d:$nr, %p:iocbpp_uaddr
ioctl: request=$cmd argp=$arg | %d:$fd, %d:request, %p:argp
ioprio_get: which_str=_stp_ioprio_which_str($which) | %s:which_str, %d:$who
ioprio_set: which_str=_stp_ioprio_which_str($which) ioprio_str=_stp_ioprio_value_str($ioprio) | %s:which_str, %d:$who, %s:ioprio_str
kcmp: type_str=_kcmp_type_str($type) | %d:$pid1, %d:$pid2, %s:type_str, %u:$idx1, %u:$idx2
kill: sig_name=signal_str($sig) | %d:$pid, %s:sig_name
link: oldpath=user_string_quoted($oldname) newpath=user_string_quoted($newname) | %s:oldpath, %s:newpath
linkat: olddirfd=$olddfd olddirfd_str=_dfd_str($olddfd) oldpath=user_string_quoted($oldname) newdirfd=$newdfd newdirfd_str=_dfd_str($newdfd) newpath=user_string_quoted($newname) flags_str=_at_flag_str($flags) | %s:olddirfd_str, %s:oldpath, %s:newdirfd_str, %s:newpath, %s:flags_str
listen: sockfd=$fd | %d:sockfd, %d:$backlog
lseek: fildes=$fd whence_str=_seek_whence_str($whence) | %d:fildes, %d:$offset, %s:whence_str
madvise: length=$len_in advice=$behavior advice_str=_madvice_advice_str($behavior) | %p:$start, %u:length, %s:advice_str
mbind: mode_str=_mempolicy_mode_str($mode) nmask_uaddr=$nmask flags_str=_mbind_flags_str($flags) | %p:$start, %u:$len, %s:mode_str, %p:nmask_uaddr, %u:$maxnode, %s:flags_str
set_mempolicy: mode_str=_mempolicy_mode_str($mode) nmask_uaddr=$nmask | %s:mode_str, %p:nmask_uaddr, %u:$maxnode
membarrier: cmd_str=_stp_membarrier_cmd_str($cmd) | %s:cmd_str, %u:$flags
memfd_create: uname=user_string_quoted($uname) flags_str=_ftstap_bits($flags,"MFD_CLOEXEC=1,MFD_ALLOW_SEALING=2,MFD_HUGETLB=4,MFD_NOEXEC_SEAL=8,MFD_EXEC=10") | %s:uname, %s:flags_str
mincore: length=$len vec_uaddr=$vec | %p:$start, %u:length, %p:vec_uaddr
mkdir: pathname_uaddr=$pathname pathname=user_string_quoted($pathname) | %s:pathname, %#o:$mode
mkdirat: dirfd=$dfd dirfd_str=_dfd_str($dfd) pathname=user_string_quoted($pathname) | %s:dirfd_str, %s:pathname, %#o:$mode
mknod: pathname=user_string_quoted($filename) mode_str=_mknod_mode_str($mode) | %s:pathname, %s:mode_str, %u:$dev
mknodat: dirfd=$dfd dirfd_str=_dfd_str($dfd) pathname=user_string_quoted($filename) mode_str=_mknod_mode_str($mode) | %s:dirfd_str, %s:pathname, %s:mode_str, %u:$dev
mlock: addr=$start | %p:addr, %u:$len
mlock2: addr=$start flags_str=_mlock2_flags_str($flags) | %p:addr, %u:$len, %s:flags_str
munlock: addr=$start | %p:addr, %u:$len
mlockall: flags_str=_mlockall_flags_str($flags) | %s:flags_str
mmap: start=$addr length=$len prot_str=_mprotect_prot_str($prot) flags_str=_mmap_flags($flags) offset=$off | %p:start, %u:length, %s:prot_str, %s:flags_str, %d:$fd, %d:offset
mmap2=mmap: start=$addr length=$len prot_str=_mprotect_prot_str($prot) flags_str=_mmap_flags($flags) pgoffset=_ftstap_pages($off) | %p:start, %u:length, %s:prot_str, %s:flags_str, %d:$fd, %d:pgoffset
modify_ldt: ptr_uaddr=$ptr | %d:$func, %p:ptr_uaddr, %u:$bytecount
mount: source=user_string_quoted($dev_name) target=user_string_quoted($dir_name) filesystemtype=user_string_quoted($type) mountflags=$flags mountflags_str=_mountflags_str($flags) data=user_string_n_quoted($data,syscall_string_trunc()) | %s:source, %s:target, %s:filesystemtype, %s:mountflags_str, %s:data
umount: target=user_string_quoted($name) flags_str=_umountflags_str($flags) | %s:target, %s:flags_str
move_pages: flags_str=_move_pages_flags_str($flags) | %d:$pid, %u:$nr_pages, %p:$pages, %p:$nodes, %p:$status, %s:flags_str
mprotect: addr=$start prot_str=_mprotect_prot_str($prot) | %p:addr, %u:$len, %s:prot_str
mq_getsetattr: u_mqstat_uaddr=$u_mqstat u_omqstat_uaddr=$u_omqstat | %d:$mqdes, %p:u_mqstat_uaddr, %p:u_omqstat_uaddr
mq_notify: notification_uaddr=$u_notification | %d:$mqdes, %p:notification_uaddr
mq_open: name_uaddr=$u_name filename=user_string_quoted($u_name) oflag_str=_sys_open_flag_str($oflag) u_attr_uaddr=$u_attr | %s:filename, %s:oflag_str, +%s:_ftstap_creat_mode($oflag,$mode), +%s:_ftstap_creat_attr($oflag,u_attr_uaddr)
mq_timedreceive: msg_ptr_uaddr=$u_msg_ptr msg_prio_uaddr=$u_msg_prio abs_timeout_uaddr=$u_abs_timeout | %d:$mqdes, %p:msg_ptr_uaddr, %u:$msg_len, %p:msg_prio_uaddr, %p:abs_timeout_uaddr
mq_timedsend: msg_ptr_uaddr=$u_msg_ptr abs_timeout_uaddr=$u_abs_timeout | %d:$mqdes, %p:msg_ptr_uaddr, %u:$msg_len, %u:$msg_prio, %p:abs_timeout_uaddr
mq_unlink: u_name_uaddr=$u_name u_name=user_string_quoted($u_name) | %s:u_name
mremap: old_address=$addr old_size=$old_len new_size=$new_len flags_str=_mremap_flags($flags) new_address=$new_addr | %p:old_address, %u:old_size, %u:new_size, %s:flags_str, %p:new_address
msgctl: cmd_str=_ipc_cmd_str($cmd) buf_uaddr=$buf | %d:$msqid, %s:cmd_str, %p:buf_uaddr
msgget: key_str=_ipc_key_str($key) msgflg_str=_stp_msgflg_str($msgflg) | %s:key_str, %s:msgflg_str
msgrcv: msgp_uaddr=$msgp msgflg_str=_stp_msgflg_str($msgflg) | %d:$msqid, %p:msgp_uaddr, %u:$msgsz, %d:$msgtyp, %s:msgflg_str
msgsnd: msgp_uaddr=$msgp msgflg_str=_stp_msgflg_str($msgflg) | %d:$msqid, %p:msgp_uaddr, %u:$msgsz, %s:msgflg_str
msync: length=$len flags_str=_msync_flag_str($flags) | %p:$start, %u:length, %s:flags_str
munmap: start=$addr length=$len | %p:start, %u:length
name_to_handle_at: dfd_str=_dfd_str($dfd) pathname=user_string_quoted($name) handle_uaddr=$handle mnt_id_uaddr=$mnt_id flags=$flag flags_str=_at_flag_str($flag) | %s:dfd_str, %s:pathname, %p:handle_uaddr, %p:mnt_id_uaddr, %s:flags_str
open_by_handle_at: mount_dfd=$mountdirfd mount_dfd_str=_dfd_str($mountdirfd) handle_uaddr=$handle flags_str=_sys_open_flag_str($flags) | %s:mount_dfd_str, %p:handle_uaddr, %s:flags_str
open: filename=user_string_quoted($filename) flags_str=_sys_open_flag_str($flags) | %s:filename, %s:flags_str, +%s:_ftstap_creat_mode($flags,$mode)
openat: dfd_str=_dfd_str($dfd) filename=user_string_quoted($filename) flags_str=_sys_open_flag_str($flags) | %s:dfd_str, %s:filename, %s:flags_str, +%s:_ftstap_creat_mode($flags,$mode)
perf_event_open: attr_uaddr=$attr_uptr flags_str=_perf_event_open_flags_str($flags) | %p:attr_uaddr, %d:$pid, %d:$cpu, %d:$group_fd, %s:flags_str
personality: persona=$personality | %#x:persona
pipe: fildes_uaddr=$fildes flags=0 flag_str="0" | %p:fildes_uaddr
pipe2: fildes_uaddr=$fildes flag_str=_sys_pipe2_flag_str($flags) | %p:fildes_uaddr, %s:flag_str
pipe.return: fildes_uaddr=@entry($fildes) pipe0=_ftstap_fd_at(fildes_uaddr,0) pipe1=_ftstap_fd_at(fildes_uaddr,1)
pipe2.return: fildes_uaddr=@entry($fildes) pipe0=_ftstap_fd_at(fildes_uaddr,0) pipe1=_ftstap_fd_at(fildes_uaddr,1) flags=@entry($flags) flag_str=_sys_pipe2_flag_str(flags)
pivot_root: new_root_str=user_string_quoted($new_root) old_root_str=user_string_quoted($put_old) | %s:new_root_str, %s:old_root_str
poll: ufds_uaddr=$ufds timeout=$timeout_msecs | %p:ufds_uaddr, %u:$nfds, %d:timeout
ppoll: fds_uaddr=$ufds tsp_str=_struct_timespec_u($tsp,1) | %p:fds_uaddr, %u:$nfds, %s:tsp_str, %p:$sigmask, %u:$sigsetsize
preadv: vector_uaddr=$vec count=$vlen offset=_ftstap_pos($pos_l,$pos_h) | %d:$fd, %p:vector_uaddr, %d:count, %d:offset
pwritev: vector_uaddr=$vec count=$vlen offset=_ftstap_pos($pos_l,$pos_h) | %d:$fd, %p:vector_uaddr, %d:count, %d:offset
readv: vector_uaddr=$vec count=$vlen | %d:$fd, %p:vector_uaddr, %d:count
writev: vector_uaddr=$vec count=$vlen | %d:$fd, %p:vector_uaddr, %d:count
process_vm_readv: local_iov_uaddr=$lvec remote_iov_uaddr=$rvec | %d:$pid, %p:local_iov_uaddr, %u:$liovcnt, %p:remote_iov_uaddr, %u:$riovcnt, %u:$flags
process_vm_writev: local_iov_uaddr=$lvec remote_iov_uaddr=$rvec | %d:$pid, %p:local_iov_uaddr, %u:$liovcnt, %p:remote_iov_uaddr, %u:$riovcnt, %u:$flags
pselect6: nfds=$n readfds=$inp writefds=$outp exceptfds=$exp timeout=$tsp timeout_str=_struct_timespec_u($tsp,1) sigmask=$sig | %d:nfds, %p:readfds, %p:writefds, %p:exceptfds, %s:timeout_str, %p:sigmask
select: readfds_uaddr=$inp writefds_uaddr=$outp exceptfds_uaddr=$exp timeout_uaddr=$tvp timeout_str=_struct_timeval_u($tvp,1) | %d:$n, %p:readfds_uaddr, %p:writefds_uaddr, %p:exceptfds_uaddr, %s:timeout_str
quotactl: cmd_str=_quotactl_cmd_str($cmd) special_str=user_string_quoted($special) addr_uaddr=$addr | %s:cmd_str, %s:special_str, %d:$id, %p:addr_uaddr
read: buf_uaddr=$buf | %d:$fd, %p:buf_uaddr, %u:$count
pread=pread64: buf_uaddr=$buf offset=$pos | %d:$fd, %p:buf_uaddr, %u:$count, %d:offset
pwrite=pwrite64: buf_uaddr=$buf buf_str=user_string_n_quoted($buf,$count,syscall_string_trunc()) offset=$pos | %d:$fd, %s:buf_str, %u:$count, %d:offset
write: buf_uaddr=$buf buf_str=user_string_n_quoted($buf,$count,syscall_string_trunc()) | %d:$fd, %s:buf_str, %u:$count
readlink: path=user_string_quoted($path) buf_uaddr=$buf | %s:path, %p:buf_uaddr, %d:$bufsiz
readlinkat: dfd_str=_dfd_str($dfd) path=user_string_quoted($pathname) buf_uaddr=$buf | %s:dfd_str, %s:path, %p:buf_uaddr, %d:$bufsiz
reboot: magic=$magic1 magic_str=_reboot_magic_str($magic1) magic2_str=_reboot_magic_str($magic2) flag=$cmd flag_str=_reboot_flag_str($cmd) arg_uaddr=$arg | %s:magic_str, %s:magic2_str, %s:flag_str, %p:arg_uaddr
recvfrom: s=$fd buf_uaddr=$ubuf len=$size flags_str=_msg_flags_str($flags) addr_uaddr=$addr addrlen_uaddr=$addr_len | %d:s, %p:buf_uaddr, %u:len, %s:flags_str, %p:addr_uaddr, %p:addrlen_uaddr
recv=recvfrom: s=$fd buf_uaddr=$ubuf len=$size flags_str=_msg_flags_str($flags) | %d:s, %p:buf_uaddr, %u:len, %s:flags_str
sendfile=sendfile64|sendfile: offset_uaddr=$offset | %d:out_fd, %d:in_fd, %p:offset_uaddr, %u:count
sendto: s=$fd buf_uaddr=$buff len=$len flags_str=_msg_flags_str($flags) to_uaddr=$addr tolen=$addr_len to_str=_struct_sockaddr_u($addr,$addr_len) | %d:s, %s:user_string_n_quoted($buff,$len,syscall_string_trunc()), %u:len, %s:flags_str, %s:to_str, %d:tolen
send=sendto: s=$fd buf_uaddr=$buff len=$len flags_str=_msg_flags_str($flags) | %d:s, %s:user_string_n_quoted($buff,$len,syscall_string_trunc()), %u:len, %s:flags_str
recvmmsg: s=$fd mmsg_uaddr=$mmsg flags_str=_msg_flags_str($flags) timeout_uaddr=$timeout timeout_str=_struct_timespec_u($timeout,1) | %d:s, %p:mmsg_uaddr, %u:$vlen, %s:flags_str, %s:timeout_str
recvmsg: s=$fd msg_uaddr=$msg flags_str=_msg_flags_str($flags) | %d:s, %p:msg_uaddr, %s:flags_str
sendmmsg: s=$fd mmsg_uaddr=$mmsg flags_str=_msg_flags_str($flags) | %d:s, %p:mmsg_uaddr, %u:$vlen, %s:flags_str
sendmsg: s=$fd msg_uaddr=$msg flags_str=_msg_flags_str($flags) | %d:s, %p:msg_uaddr, %s:flags_str
remap_file_pages: prot_str=_mprotect_prot_str($prot) flags_str=_mmap_flags($flags) | %p:$start, %u:$size, %s:prot_str, %u:$pgoff, %s:flags_str
rename: oldpath=user_string_quoted($oldname) newpath=user_string_quoted($newname) | %s:oldpath, %s:newpath
renameat: olddfd_str=_dfd_str($olddfd) oldname_str=user_string_quoted($oldname) newdfd_str=_dfd_str($newdfd) newname_str=user_string_quoted($newname) | %s:olddfd_str, %s:oldname_str, %s:newdfd_str, %s:newname_str
renameat2: olddfd_str=_dfd_str($olddfd) oldname_str=user_string_quoted($oldname) newdfd_str=_dfd_str($newdfd) newname_str=user_string_quoted($newname) flags_str=_renameat2_flags_str($flags) | %s:olddfd_str, %s:oldname_str, %s:newdfd_str, %s:newname_str, %s:flags_str
request_key: type_uaddr=$_type type_str=user_string_quoted($_type) description_uaddr=$_description description_str=user_string_quoted($_description) callout_info_uaddr=$_callout_info | %s:type_str, %s:description_str, %p:callout_info_uaddr, %d:$destringid
rmdir: pathname=user_string_quoted($pathname) | %s:pathname
rt_sigaction: sig_str=signal_str($sig) act_uaddr=$act act_str=_ftstap_ptr_str($act) oact_uaddr=$oact | %s:sig_str, %s:act_str, %p:oact_uaddr, %d:$sigsetsize
rt_sigpending: set_uaddr=$uset | %p:set_uaddr, %d:$sigsetsize
rt_sigprocmask: how_str=_sigprocmask_how_str($how) set_uaddr=$nset set_str=_stp_sigset_u($nset) oldset_uaddr=$oset | %s:how_str, %s:set_str, %p:oldset_uaddr, %d:$sigsetsize
rt_sigqueueinfo: sig_name=signal_str($sig) uinfo_uaddr=$uinfo siginfo_str=_ftstap_ptr_str($uinfo) | %d:$pid, %s:sig_name, %s:siginfo_str
rt_tgsigqueueinfo: tid=$pid sig_str=signal_str($sig) uinfo_uaddr=$uinfo uinfo_str=_ftstap_ptr_str($uinfo) | %d:$tgid, %d:tid, %s:sig_str, %s:uinfo_str
rt_sigsuspend: set_uaddr=$unewset set_str=_stp_sigset_u($unewset) | %s:set_str, %d:$sigsetsize
rt_sigtimedwait: uthese_uaddr=$uthese uthese_str=_stp_sigset_u($uthese) uinfo_uaddr=$uinfo uinfo_str=_ftstap_ptr_str($uinfo) uts_uaddr=$uts uts_str=_struct_timespec_u($uts,1) | %s:uthese_str, %s:uinfo_str, %s:uts_str, %d:$sigsetsize
sched_get_priority_max: policy_str=_sched_policy_str($policy) | %s:policy_str
sched_get_priority_min: policy_str=_sched_policy_str($policy) | %s:policy_str
sched_getaffinity: mask_uaddr=$user_mask_ptr | %d:$pid, %u:$len, %p:mask_uaddr
sched_setaffinity: mask_uaddr=$user_mask_ptr | %d:$pid, %u:$len, %p:mask_uaddr
sched_getattr: sched_attr_str=_ftstap_ptr_str($uattr) size=$usize | %d:$pid, %s:sched_attr_str, %u:size, %u:$flags
sched_setattr: sched_attr_str=_ftstap_ptr_str($uattr) | %d:$pid, %s:sched_attr_str, %u:$flags
sched_getparam: p_uaddr=$param | %d:$pid, %p:p_uaddr
sched_setparam: p_uaddr=$param | %d:$pid, %p:p_uaddr
sched_setscheduler: policy_str=_sched_policy_str($policy) p_uaddr=$param | %d:$pid, %s:policy_str, %p:p_uaddr
sched_rr_get_interval: tp_uaddr=$interval | %d:$pid, %p:tp_uaddr
seccomp: op_str=_stp_seccomp_op_str($op) flags_str=_seccomp_flags_str($flags) uargs_uaddr=$uargs | %s:op_str, %s:flags_str, %p:uargs_uaddr
semctl: cmdstr=_ipc_cmd_str($cmd) | %d:$semid, %d:$semnum, %s:cmdstr, %p:$arg
semget: key_str=_ipc_key_str($key) semflg_str=_stp_msgflg_str($semflg) | %s:key_str, %d:$nsems, %s:semflg_str
semop: sops_uaddr=$tsops | %d:$semid, %p:sops_uaddr, %u:$nsops
semtimedop: sops_uaddr=$tsops timeout_uaddr=$timeout timeout_str=_struct_timespec_u($timeout,1) | %d:$semid, %p:sops_uaddr, %u:$nsops, %s:timeout_str
set_tid_address: tidptr_uaddr=$tidptr | %p:tidptr_uaddr
setdomainname: domainname_uaddr=$name domainname_str=user_string_quoted($name) | %s:domainname_str, %d:$len
sethostname: hostname_uaddr=$name name_str=user_string_quoted($name) | %s:name_str, %d:$len
setfsgid: fsgid=$gid | %d:fsgid
setfsuid: fsuid=$uid | %d:fsuid
setns: nstype=$flags nstype_str=_stp_setns_flags_str($flags) | %d:$fd, %s:nstype_str
setpriority: which_str=_priority_which_str($which) prio=$niceval | %s:which_str, %d:$who, %d:prio
getpriority: which_str=_priority_which_str($which) | %s:which_str, %d:$who
shmat: shmaddr_uaddr=$shmaddr shmflg_str=_stp_shmflg_str($shmflg) | %d:$shmid, %p:shmaddr_uaddr, %s:shmflg_str
shmctl: cmd_str=_ipc_cmd_str($cmd) buf_uaddr=$buf | %d:$shmid, %s:cmd_str, %p:buf_uaddr
shmdt: shmaddr_uaddr=$shmaddr | %p:shmaddr_uaddr
shmget: shmflg_str=_stp_shmflg_str($shmflg) | %s:_ipc_key_str($key), %u:$size, %s:shmflg_str
shutdown: s=$fd how_str=_shutdown_how_str($how) | %d:s, %s:how_str
sigaltstack: uss_uaddr=$uss uss_str=_ftstap_ptr_str($uss) uoss_uaddr=$uoss | %s:uss_str, %p:uoss_uaddr
signalfd: flags=0 | %d:$ufd, %p:$user_mask, %u:$sizemask
signalfd4: flags_str=_ftstap_bits($flags,"SFD_NONBLOCK=800,SFD_CLOEXEC=80000") | %d:$ufd, %p:$user_mask, %u:$sizemask, %s:flags_str
socket: family_str=_sock_family_str($family) type_str=_sock_type_str($type) protocol_str=_sock_protocol_str($family,$protocol) | %s:family_str, %s:type_str, %s:protocol_str
socketpair: family_str=_sock_family_str($family) type_str=_sock_type_str($type) protocol_str=_sock_protocol_str($family,$protocol) sv_uaddr=$usockvec | %s:family_str, %s:type_str, %s:protocol_str, %p:sv_uaddr
splice: flags_str=_splice_flags_str($flags) | %d:$fd_in, %p:$off_in, %d:$fd_out, %p:$off_out, %u:$len, %s:flags_str
tee: flags_str=_splice_flags_str($flags) | %d:$fdin, %d:$fdout, %u:$len, %s:flags_str
vmsplice: iov=$uiov flags_str=_splice_flags_str($flags) | %d:$fd, %p:iov, %u:$nr_segs, %s:flags_str
stat=newstat|stat: filename_uaddr=$filename filename=user_string_quoted($filename) buf_uaddr=$statbuf | %s:filename, %p:buf_uaddr
lstat=newlstat|lstat: filename_uaddr=$filename filename=user_string_quoted($filename) path=filename buf_uaddr=$statbuf | %s:filename, %p:buf_uaddr
fstat=newfstat|fstat: filedes=$fd buf_uaddr=$statbuf | %d:filedes, %p:buf_uaddr
fstatat=newfstatat|fstatat64: dirfd=$dfd dirfd_str=_dfd_str($dfd) path=user_string_quoted($filename) buf_uaddr=$statbuf flags=$flag flags_str=_at_flag_str($flag) | %s:dirfd_str, %s:path, %p:buf_uaddr, %s:flags_str
statfs: path=user_string_quoted($pathname) buf_uaddr=$buf | %s:path, %p:buf_uaddr
statfs64=-: path="" sz=0 buf_uaddr=0 | 
fstatfs64=-: fd=0 sz=0 buf_uaddr=0 | 
statx: dfd_str=_dfd_str($dfd) filename=user_string_quoted($filename) flags_str=_at_flag_str($flags) mask_str=_statx_mask_str($mask) buf_uaddr=$buffer | %s:dfd_str, %s:filename, %s:flags_str, %s:mask_str, %p:buf_uaddr
swapoff: path_uaddr=$specialfile path=user_string_quoted($specialfile) | %s:path
swapon: path_uaddr=$specialfile path=user_string_quoted($specialfile) swapflags=$swap_flags swapflags_str=_swapon_flags_str($swap_flags) | %s:path, %s:swapflags_str
symlink: oldpath=user_string_quoted($oldname) newpath=user_string_quoted($newname) | %s:oldpath, %s:newpath
symlinkat: oldname_str=user_string_quoted($oldname) newdfd_str=_dfd_str($newdfd) newname_str=user_string_quoted($newname) | %s:oldname_str, %s:newdfd_str, %s:newname_str
sync_file_range: flags_str=_sync_file_range_flag_str($flags) | %d:$fd, %d:$offset, %d:$nbytes, %s:flags_str
sysinfo: info_uaddr=$info info_str=_ftstap_ptr_str($info) | %s:info_str
syslog: bufp_uaddr=$buf | %d:$type, %p:bufp_uaddr, %d:$len
tgkill: sig_str=signal_str($sig) | %d:$tgid, %d:$pid, %s:sig_str
tkill: sig_str=signal_str($sig) | %d:$pid, %s:sig_str
time: t_uaddr=$tloc | %p:t_uaddr
timer_create: clockid=$which_clock clockid_str=_clockid_str($which_clock) evp_uaddr=$timer_event_spec timerid_uaddr=$created_timer_id | %s:clockid_str, %p:evp_uaddr, %p:timerid_uaddr
timer_delete: timerid=$timer_id | %d:timerid
timer_getoverrun: timerid=$timer_id | %d:timerid
timer_gettime: timerid=$timer_id value_uaddr=$setting | %d:timerid, %p:value_uaddr
timer_settime: timerid=$timer_id value_uaddr=$new_setting value_str=_struct_itimerspec_u($new_setting) ovalue_uaddr=$old_setting | %d:timerid, %d:$flags, %s:value_str, %p:ovalue_uaddr
timerfd_create: clockid_str=_clockid_str($clockid) flags_str=_timerfd_flags_str($flags) | %s:clockid_str, %s:flags_str
timerfd_gettime: fd=$ufd value_uaddr=$otmr | %d:fd, %p:value_uaddr
timerfd_settime: fd=$ufd flags_str=_timerfd_flags_str($flags) value_uaddr=$utmr value_str=_struct_itimerspec_u($utmr) ovalue_uaddr=$otmr | %d:fd, %s:flags_str, %s:value_str, %p:ovalue_uaddr
times: buf_uaddr=$tbuf buf_str=_ftstap_ptr_str($tbuf) | %s:buf_str
truncate: path_uaddr=$path path=user_string_quoted($path) | %s:path, %d:$length
unlink: pathname_uaddr=$pathname pathname=user_string_quoted($pathname) | %s:pathname
unlinkat: pathname=$pathname dfd_str=_dfd_str($dfd) pathname_str=user_string_quoted($pathname) flag_str=_at_flag_str($flag) | %s:dfd_str, %s:pathname_str, %s:flag_str
unshare: unshare_flags_str=_unshare_flags_str($unshare_flags) | %s:unshare_flags_str
userfaultfd: flags_str=_userfaultfd_flags_str($flags) | %s:flags_str
ustat: ubuf_uaddr=$ubuf | %u:$dev, %p:ubuf_uaddr
utime: filename_uaddr=$filename filename=user_string_quoted($filename) buf_uaddr=$times actime=_struct_utimbuf_actime($times) modtime=_struct_utimbuf_modtime($times) | %s:filename, %s:_ftstap_utimbuf_str($times)
utimensat: dfd_str=_dfd_str($dfd) filename_uaddr=$filename filename=user_string_quoted($filename) tsp_uaddr=$utimes tsp_str=_struct_timespec_u($utimes,2) flags_str=_at_flag_str($flags) | %s:dfd_str, %s:filename, %s:tsp_str, %s:flags_str
utimes: filename=user_string_quoted($filename) tvp_uaddr=$utimes tvp_uaddr_str=_struct_timeval_u($utimes,2) | %s:filename, %s:tvp_uaddr_str
wait4: pid=$upid status_uaddr=$stat_addr options_str=_wait4_opt_str($options) rusage_uaddr=$ru | %d:pid, %p:status_uaddr, %s:options_str, %p:rusage_uaddr
wait4.return: status_uaddr=@entry($stat_addr) status_str=_ftstap_wait_status_at(status_uaddr,retval)
waitid: which_str=_waitid_which_str($which) pid=$upid infop_uaddr=$infop options_str=_waitid_opt_str($options) rusage_uaddr=$ru | %s:which_str, %d:pid, %p:infop_uaddr, %s:options_str, %p:rusage_uaddr
delete_module=#name_user,flags: name_user=user_string_quoted($name_user) flags=$flags flags_str=_ftstap_bits($flags,"O_TRUNC=200,O_NONBLOCK=800") | %s:name_user, %s:flags_str
init_module=#umod,len,uargs: umod=$umod umod_uaddr=$umod len=$len uargs=user_string_quoted($uargs) | %p:umod, %u:len, %s:uargs
finit_module=#fd,uargs,flags: fd=$fd uargs=user_string_quoted($uargs) flags=$flags flags_str=_ftstap_bits($flags,"MODULE_INIT_IGNORE_MODVERSIONS=1,MODULE_INIT_IGNORE_VERMAGIC=2,MODULE_INIT_COMPRESSED_FILE=4") | %d:fd, %s:uargs, %s:flags_str
lookup_dcookie=#cookie,buf,len: cookie=$cookie buffer_uaddr=$buf len=$len | %u:cookie, %p:buffer_uaddr, %u:len
sysctl=#args@_sysctl: args=$args | %p:args
ni_syscall=#: | 
uname=newuname|uname: name_uaddr=$name | %p:name_uaddr
"""
