/* The kernel ABI's number-to-name tables: errno names (errno_str, errno_p)
 * and system call names (syscall_name).
 *
 * The errno table covers 1..131 (EPERM..ENOTRECOVERABLE), as stap's does:
 * the numbers are the same on x86_64 and the asm-generic architectures
 * (arm64, riscv64); 41 and 58 are unused there (EWOULDBLOCK is EAGAIN,
 * EDEADLOCK is EDEADLK).
 *
 * System call names: syscall_tables.c (x86_64 and arm64). */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"
#include "program.h"

#include <string.h>

#define NELEM(a) ((ft_i64)(sizeof(a) / sizeof((a)[0])))

static const char *const errnames[] = {
    "", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
    "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV",
    "ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC",
    "ESPIPE", "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK",
    "ENOSYS", "ENOTEMPTY", "ELOOP", "", "ENOMSG", "EIDRM", "ECHRNG", "EL2NSYNC", "EL3HLT",
    "EL3RST", "ELNRNG", "EUNATCH", "ENOCSI", "EL2HLT", "EBADE", "EBADR", "EXFULL", "ENOANO",
    "EBADRQC", "EBADSLT", "", "EBFONT", "ENOSTR", "ENODATA", "ETIME", "ENOSR", "ENONET", "ENOPKG",
    "EREMOTE", "ENOLINK", "EADV", "ESRMNT", "ECOMM", "EPROTO", "EMULTIHOP", "EDOTDOT", "EBADMSG",
    "EOVERFLOW", "ENOTUNIQ", "EBADFD", "EREMCHG", "ELIBACC", "ELIBBAD", "ELIBSCN", "ELIBMAX",
    "ELIBEXEC", "EILSEQ", "ERESTART", "ESTRPIPE", "EUSERS", "ENOTSOCK", "EDESTADDRREQ", "EMSGSIZE",
    "EPROTOTYPE", "ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EOPNOTSUPP",
    "EPFNOSUPPORT", "EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENETDOWN", "ENETUNREACH",
    "ENETRESET", "ECONNABORTED", "ECONNRESET", "ENOBUFS", "EISCONN", "ENOTCONN", "ESHUTDOWN",
    "ETOOMANYREFS", "ETIMEDOUT", "ECONNREFUSED", "EHOSTDOWN", "EHOSTUNREACH", "EALREADY",
    "EINPROGRESS", "ESTALE", "EUCLEAN", "ENOTNAM", "ENAVAIL", "EISNAM", "EREMOTEIO", "EDQUOT",
    "ENOMEDIUM", "EMEDIUMTYPE", "ECANCELED", "ENOKEY", "EKEYEXPIRED", "EKEYREVOKED",
    "EKEYREJECTED", "EOWNERDEAD", "ENOTRECOVERABLE",
};


/* The name of error number |err| (either sign), or NULL. */
static const char *errname(ft_i64 err)
{
    ft_i64 e = err < 0 ? -err : err;
    return e > 0 && e < NELEM(errnames) && errnames[e][0] ? errnames[e] : NULL;
}

/* errno_str(err): "ENOENT" for 2 or -2; "" for a number with no name */
int ft_b_errno_str(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)sa, (void)iret;
    const char *n = errname(ia[0]);
    ft_str_set(vm, sret, n ? n : "", -1);
    return 0;
}

/* errno_p(err): |err| when it names an error, else 0 */
int ft_b_errno_p(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)vm, (void)sa, (void)sret;
    *iret = errname(ia[0]) ? (ia[0] < 0 ? -ia[0] : ia[0]) : 0;
    return 0;
}

/* syscall_name(nr): "openat" for 257 on x86_64; "" when unknown */
int ft_b_syscall_name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)sa, (void)iret;
    const char *n = ft_syscall_name_for(FT_HOST_MACHINE, (long)ia[0]);
    ft_str_set(vm, sret, n ? n : "", -1);
    return 0;
}
