/* Output files the runtime opens itself: the next file of -S SIZE[,N]
 * rotation and of switch_file(), and (for ftstap-run) -o FILE.
 *
 * The rules are safefs.open_output's: FILE after strftime(3); in a
 * directory others can write, no symlink is followed and a file of another
 * user is refused; a regular file is truncated.
 *
 * Names follow staprun (staprun/common.c make_outfile_name): with -S the
 * files are FILE.0, FILE.1, ...; with plain -o the first file is FILE and
 * switch_file() goes on to FILE.1, FILE.2, ...  strftime is applied to FILE
 * when each file is opened. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "out.h"
#include "tapfuncs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int others_can_write(const struct stat *st)
{
    return (st->st_uid != 0 && st->st_uid != geteuid()) || (st->st_mode & 022);
}

/* The directory a path is in, into dir. */
static void dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, ".");
    else
        snprintf(dir, cap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

int ft_output_name(char *buf, size_t cap, const char *pattern, time_t when, long index)
{
    struct tm tm;
    size_t n;
    if (strchr(pattern, '%')) {
        n = strftime(buf, cap, pattern, localtime_r(&when, &tm));
        if (n == 0)
            return FT_EINVAL;
    } else {
        n = strlen(pattern);
        if (n + 1 > cap)
            return FT_EINVAL;
        memcpy(buf, pattern, n + 1);
    }
    if (index >= 0 && (size_t)snprintf(buf + n, cap - n, ".%ld", index) >= cap - n)
        return FT_EINVAL;
    return FT_OK;
}

int ft_output_open(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    struct stat dst, st;
    dir_of(path, dir, sizeof dir);
    int shared = stat(dir, &dst) == 0 && others_can_write(&dst);
    int fd = shared && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)
                 ? (errno = ELOOP, -1)
                 : open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (shared ? O_NOFOLLOW : 0), 0644);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open output file '%s': %s", path,
                 e == ELOOP ? "a symbolic link in a directory others can write" : strerror(e));
        errno = e;
        return -1;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (shared && st.st_uid != geteuid()) {
            snprintf(err, errlen, "cannot open output file '%s': it belongs to uid %u, in a directory "
                     "others can write", path, (unsigned)st.st_uid);
            close(fd);
            errno = EPERM;
            return -1;
        }
        if (ftruncate(fd, 0) != 0) { /* a file we may write but not truncate: written over */ }
    }
    return fd;
}

void ft_output_remove(const char *path)
{
    char dir[4096];
    struct stat dst, st;
    dir_of(path, dir, sizeof dir);
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;                 /* only a file we wrote: never a link or a device */
    if (stat(dir, &dst) == 0 && others_can_write(&dst) && st.st_uid != geteuid())
        return;                 /* not ours, where others can write */
    unlink(path);
}

/* switch_file(): the next message of output goes to the next file (with -o;
   without, nothing to switch). */
int ft_b_switch_file(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)ia, (void)sa, (void)iret, (void)sret;
    ft_out_switch(vm->out);
    return 0;
}
