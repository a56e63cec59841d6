/* Frames on attach connections, descriptor passing, and starting the
 * monitor detached. C because they sit on raw descriptors shared with the
 * loops in monitor.c and attach.c. */
#define _GNU_SOURCE
#include "burrow_monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const void *bytes, size_t size)
{
    const uint8_t *p = bytes;
    while (size > 0) {
        ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) n = write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd wait = { fd, POLLOUT, 0 };
                poll(&wait, 1, 1000);
                continue;
            }
            return -errno;
        }
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *bytes, size_t size)
{
    uint8_t *p = bytes;
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EPIPE;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

int burrow_frame_write(int fd, uint32_t type, const void *payload, uint32_t length)
{
    uint8_t buffer[sizeof(struct burrow_frame) + 256];
    struct burrow_frame header = { type, length };
    if (length <= 256) {
        /* One write for small frames: the reader never sees half a header. */
        memcpy(buffer, &header, sizeof header);
        if (length) memcpy(buffer + sizeof header, payload, length);
        return write_all(fd, buffer, sizeof header + length);
    }
    int rc = write_all(fd, &header, sizeof header);
    return rc < 0 ? rc : write_all(fd, payload, length);
}

int burrow_frame_read(int fd, uint32_t *type, void *payload, uint32_t capacity)
{
    struct burrow_frame header;
    int rc = read_all(fd, &header, sizeof header);
    if (rc < 0) return rc;
    if (header.length > BURROW_FRAME_MAX) return -EPROTO;
    uint32_t keep = header.length < capacity ? header.length : capacity;
    rc = read_all(fd, payload, keep);
    if (rc < 0) return rc;
    for (uint32_t left = header.length - keep; left > 0;) {
        uint8_t skip[256];
        uint32_t n = left < sizeof skip ? left : (uint32_t)sizeof skip;
        rc = read_all(fd, skip, n);
        if (rc < 0) return rc;
        left -= n;
    }
    *type = header.type;
    return (int)keep;
}

int burrow_receive_descriptor(int socket_fd)
{
    char byte;
    struct iovec io = { &byte, 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control.buf;
    message.msg_controllen = sizeof control.buf;
    ssize_t n;
    do { n = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return -EPIPE;
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -EPROTO;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

int burrow_spawn_detached(const char *path, char *const argv[], char *const envp[], const int *keep, int keep_count)
{
    /* Copies far above 3 + keep_count first, so that no dup2 below
     * overwrites a descriptor a later one still reads. */
    int copies[256];
    if (keep_count < 0 || keep_count > 256) return -EINVAL;
    for (int i = 0; i < keep_count; i++) {
        copies[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 64);
        if (copies[i] < 0) {
            int error = errno;
            while (i-- > 0) close(copies[i]);
            return -error;
        }
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    for (int i = 0; i < keep_count; i++) posix_spawn_file_actions_adddup2(&actions, copies[i], 3 + i);
    for (int fd = 0; fd < 3; fd++) posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
    /* Nothing else of the caller's: a pipe held by a monitor that lives for
     * days would keep its reader from ever seeing the end. */
    posix_spawn_file_actions_addclosefrom_np(&actions, 3 + keep_count);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    for (int i = 0; i < keep_count; i++) close(copies[i]);
    return rc == 0 ? pid : -rc;
}
