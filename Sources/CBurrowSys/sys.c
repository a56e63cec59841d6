/* Wrappers for calls Swift cannot make itself (variadic, unwrapped by glibc,
 * or macros). C because the Swift importer sees none of these. */
#define _GNU_SOURCE
#include "burrow_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <sched.h>
#include <unistd.h>

int bsys_openat(int dirfd, const char *path, int flags, unsigned int mode)
{
    return openat(dirfd, path, flags | O_CLOEXEC, (mode_t)mode);
}

int bsys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct open_how how = { .flags = flags | O_CLOEXEC, .mode = mode, .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int bsys_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath, unsigned int flags)
{
    return (int)syscall(SYS_renameat2, olddir, oldpath, newdir, newpath, flags);
}

int bsys_fcntl_int(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }
int bsys_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
int bsys_setns_user(int fd) { return (int)syscall(SYS_setns, fd, CLONE_NEWUSER); }
int bsys_pause(void) { return pause(); }
int bsys_getrandom(void *buffer, size_t length) { return (int)getrandom(buffer, length, 0); }
int bsys_ficlone(int dest, int source) { return ioctl(dest, FICLONE, source); }

long bsys_copy_file_range(int in, int out, size_t length)
{
    return (long)syscall(SYS_copy_file_range, in, NULL, out, NULL, length, 0);
}

int bsys_statfs_type(const char *path, unsigned long *type)
{
    struct statfs st;
    if (statfs(path, &st) != 0) return -1;
    *type = (unsigned long)st.f_type;
    return 0;
}

dev_t bsys_makedev(unsigned int ma, unsigned int mi) { return makedev(ma, mi); }
unsigned int bsys_major(dev_t dev) { return major(dev); }
unsigned int bsys_minor(dev_t dev) { return minor(dev); }

int bsys_is_dir(mode_t mode) { return S_ISDIR(mode); }
int bsys_is_reg(mode_t mode) { return S_ISREG(mode); }
int bsys_is_lnk(mode_t mode) { return S_ISLNK(mode); }
int bsys_is_chr(mode_t mode) { return S_ISCHR(mode); }
int bsys_is_blk(mode_t mode) { return S_ISBLK(mode); }
int bsys_is_fifo(mode_t mode) { return S_ISFIFO(mode); }

int bsys_errno(void) { return errno; }
void bsys_set_errno(int value) { errno = value; }

int bsys_fsetxattr(int fd, const char *name, const void *value, size_t size) { return fsetxattr(fd, name, value, size, 0); }
int bsys_lsetxattr(const char *path, const char *name, const void *value, size_t size) { return lsetxattr(path, name, value, size, 0); }
long bsys_fgetxattr(int fd, const char *name, void *value, size_t size) { return (long)fgetxattr(fd, name, value, size); }
long bsys_lgetxattr(const char *path, const char *name, void *value, size_t size) { return (long)lgetxattr(path, name, value, size); }
long bsys_llistxattr(const char *path, char *list, size_t size) { return (long)llistxattr(path, list, size); }
long bsys_flistxattr(int fd, char *list, size_t size) { return (long)flistxattr(fd, list, size); }

int bsys_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int bsys_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }
int bsys_setns(int fd, int type) { return (int)syscall(SYS_setns, fd, type); }
