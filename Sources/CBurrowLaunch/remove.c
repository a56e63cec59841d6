/* Deleting a finished container's files in the background, after the CLI
 * has returned. C because the deleting process is forked from a Swift
 * process and may only make raw system calls. */
#define _GNU_SOURCE
#include "burrow_launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Empties the directory `fd` (owned by the caller) and returns 0, or -errno. */
static int empty_directory(int fd, int depth)
{
    if (depth > 256) return -ELOOP;
    char buffer[8192];
    int result = 0;
    int opened_up = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
        if (n < 0) return -errno;
        if (n == 0) break;
        int removed = 0;
        for (long offset = 0; offset < n;) {
            struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + offset);
            offset += entry->d_reclen;
            const char *name = entry->d_name;
            if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
            int is_dir = entry->d_type == DT_DIR;
            if (entry->d_type == DT_UNKNOWN) {
                struct stat st;
                if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) is_dir = S_ISDIR(st.st_mode);
            }
            if (is_dir) {
                int child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0 && errno == EACCES) {
                    fchmodat(fd, name, 0700, 0);
                    child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (child < 0) { result = -errno; continue; }
                int rc = empty_directory(child, depth + 1);
                close(child);
                if (rc < 0) { result = rc; continue; }
            }
            if (unlinkat(fd, name, is_dir ? AT_REMOVEDIR : 0) != 0) {
                if (errno == EACCES && !opened_up) {
                    opened_up = 1;
                    fchmod(fd, 0700);
                    if (unlinkat(fd, name, is_dir ? AT_REMOVEDIR : 0) == 0) { removed++; continue; }
                }
                if (errno != ENOENT) result = -errno;
            } else {
                removed++;
            }
        }
        /* Entries were removed under the reader: read from the start again. */
        if (removed) lseek(fd, 0, SEEK_SET);
        else if (result < 0) break;
    }
    return result;
}

static int remove_tree(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -errno;
    int rc = empty_directory(fd, 0);
    close(fd);
    if (rc < 0) return rc;
    return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
}

int burrow_cleaner_start(const char *path, const char *abandoned, const char *abandoned_link,
                         const char *fallback, char *const fallback_argv[])
{
    int channel[2];
    if (pipe2(channel, O_CLOEXEC) != 0) return -errno;
    long child = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    if (child < 0) {
        int e = errno;
        close(channel[0]);
        close(channel[1]);
        return -e;
    }
    if (child == 0) {
        setsid();
        uint64_t empty = 0;
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, 8);
        dup2(channel[0], 3);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); }
        syscall(SYS_close_range, 4, ~0U, 0);
        /* Hold on until the parent decides: a byte cancels, EOF (the parent
         * is done, or gone) deletes. */
        char cancel;
        ssize_t n;
        do { n = read(3, &cancel, 1); } while (n < 0 && errno == EINTR);
        if (n == 1) syscall(SYS_exit_group, 0);
        /* Not retired: the parent died before it could (killed). Its
         * container died with it (parent-death signal): remove it whole. */
        struct stat st;
        if (lstat(path, &st) != 0 && abandoned != NULL) {
            if (abandoned_link != NULL) unlink(abandoned_link);
            remove_tree(abandoned);
            syscall(SYS_exit_group, 0);
        }
        if (remove_tree(path) != 0 && fallback != NULL) execv(fallback, fallback_argv);
        syscall(SYS_exit_group, 0);
    }
    close(channel[0]);
    return channel[1];
}
