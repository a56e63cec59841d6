/* Unix sockets by path: sockaddr_un and its 108-byte limit, which a store
 * or runtime directory deep in a home can exceed. C because Swift cannot
 * fill sockaddr_un's char array conveniently. */
#define _GNU_SOURCE
#include "burrow_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The address of `name` in `directory`, through /proc/self/fd when the
 * whole path would not fit. *dir_fd is the directory held open for it. */
static int address(const char *directory, const char *name, struct sockaddr_un *out, int *dir_fd)
{
    memset(out, 0, sizeof *out);
    out->sun_family = AF_UNIX;
    *dir_fd = -1;
    if ((size_t)snprintf(out->sun_path, sizeof out->sun_path, "%s/%s", directory, name) < sizeof out->sun_path) return 0;
    *dir_fd = open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dir_fd < 0) return -1;
    if ((size_t)snprintf(out->sun_path, sizeof out->sun_path, "/proc/self/fd/%d/%s", *dir_fd, name) >= sizeof out->sun_path) {
        close(*dir_fd);
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int bsys_unix_listen(const char *directory, const char *name)
{
    struct sockaddr_un where;
    int dir_fd;
    if (address(directory, name, &where, &dir_fd) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int e = 0;
    if (fd < 0) { e = errno; goto out; }
    unlink(where.sun_path);
    /* Only the user: the socket drives a container's input. */
    mode_t before = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&where, sizeof where);
    umask(before);
    if (rc != 0 || listen(fd, 16) != 0) { e = errno; close(fd); fd = -1; }
out:
    if (dir_fd >= 0) close(dir_fd);
    errno = e;
    return e ? -1 : fd;
}

int bsys_unix_connect(const char *directory, const char *name)
{
    struct sockaddr_un where;
    int dir_fd;
    if (address(directory, name, &where, &dir_fd) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int e = 0;
    if (fd < 0) e = errno;
    else if (connect(fd, (struct sockaddr *)&where, sizeof where) != 0) { e = errno; close(fd); fd = -1; }
    if (dir_fd >= 0) close(dir_fd);
    errno = e;
    return e ? -1 : fd;
}

int bsys_socketpair(int fds[2]) { return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); }
