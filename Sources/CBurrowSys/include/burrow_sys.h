/* System calls Swift cannot reach directly: variadic wrappers, calls glibc
 * does not wrap (openat2), and macros. C because Swift imports none of these. */
#ifndef BURROW_SYS_H
#define BURROW_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* openat2 RESOLVE_* flags and renameat2 flags, as the kernel defines them. */
#define BSYS_RESOLVE_NO_XDEV        0x01
#define BSYS_RESOLVE_NO_MAGICLINKS  0x02
#define BSYS_RESOLVE_NO_SYMLINKS    0x04
#define BSYS_RESOLVE_BENEATH        0x08
#define BSYS_RESOLVE_IN_ROOT        0x10
#define BSYS_O_PATH                 010000000
#define BSYS_RENAME_NOREPLACE       0x01
#define BSYS_RENAME_EXCHANGE        0x02

/* All return -1 and set errno on failure, as the libc calls do; every
 * descriptor they open is close-on-exec. */
int bsys_openat(int dirfd, const char *path, int flags, unsigned int mode);
int bsys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int bsys_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath, unsigned int flags);
int bsys_fcntl_int(int fd, int cmd, int arg);
int bsys_pipe(int fds[2]);
int bsys_setns_user(int fd);
int bsys_pause(void);
int bsys_getrandom(void *buffer, size_t length);
int bsys_ficlone(int dest, int source);
long bsys_copy_file_range(int in, int out, size_t length);
int bsys_statfs_type(const char *path, unsigned long *type);

/* A listening or connected unix stream socket at DIRECTORY/NAME, private to
 * the user; paths longer than sockaddr_un holds work too. */
int bsys_unix_listen(const char *directory, const char *name);
int bsys_unix_connect(const char *directory, const char *name);
int bsys_socketpair(int fds[2]);

int bsys_pidfd_open(int pid);
int bsys_pidfd_send_signal(int pidfd, int sig);
int bsys_setns(int fd, int type);

/* Extended attributes; sizes and -1/errno as the libc calls. */
int bsys_fsetxattr(int fd, const char *name, const void *value, size_t size);
int bsys_lsetxattr(const char *path, const char *name, const void *value, size_t size);
long bsys_fgetxattr(int fd, const char *name, void *value, size_t size);
long bsys_lgetxattr(const char *path, const char *name, void *value, size_t size);
long bsys_llistxattr(const char *path, char *list, size_t size);
long bsys_flistxattr(int fd, char *list, size_t size);

dev_t bsys_makedev(unsigned int major, unsigned int minor);
unsigned int bsys_major(dev_t dev);
unsigned int bsys_minor(dev_t dev);

int bsys_is_dir(mode_t mode);
int bsys_is_reg(mode_t mode);
int bsys_is_lnk(mode_t mode);
int bsys_is_chr(mode_t mode);
int bsys_is_blk(mode_t mode);
int bsys_is_fifo(mode_t mode);

int bsys_errno(void);
void bsys_set_errno(int value);

#endif
