/* The container's terminal: a pty of the container's own devpts, made in the
 * child after pivot_root, its master sent to the monitor. C because it runs
 * between clone() and exec(). */
#define _GNU_SOURCE
#include "launch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static int send_descriptor(int socket_fd, int fd)
{
    char byte = 'm';
    struct iovec io = { &byte, 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control.buf;
    message.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t n;
    do { n = sendmsg(socket_fd, &message, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -errno;
}

/* Opens the pty, gives it the caller's size before the program starts,
 * sends the master, and makes the slave the process's controlling terminal
 * and its standard streams. The session was started before the steps. */
int child_console(const struct decoded_plan *plan)
{
    const struct burrow_plan_header *h = plan->header;
    int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -errno;
    int unlock = 0;
    int e = 0;
    int slave = -1;
    if (ioctl(master, TIOCSPTLCK, &unlock) != 0) { e = -errno; goto out; }
    /* The peer, opened without a path lookup inside the container. */
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        unsigned int number = 0;
        char path[32];
        if (ioctl(master, TIOCGPTN, &number) != 0) { e = -errno; goto out; }
        size_t at = 0;
        const char *prefix = "/dev/pts/";
        while (prefix[at]) { path[at] = prefix[at]; at++; }
        char digits[12];
        int count = 0;
        do { digits[count++] = (char)('0' + number % 10); number /= 10; } while (number && count < 11);
        while (count) path[at++] = digits[--count];
        path[at] = 0;
        slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) { e = -errno; goto out; }
    }
    if (h->console_rows && h->console_cols) {
        struct winsize size = { h->console_rows, h->console_cols, 0, 0 };
        if (ioctl(master, TIOCSWINSZ, &size) != 0) { e = -errno; goto out; }
    }
    /* The terminal belongs to the user the program runs as, as a login's does. */
    if (h->flags & BURROW_PLAN_SET_IDS) {
        if (syscall(SYS_fchown, slave, h->uid, (gid_t)-1) != 0) { /* unmapped: leave it to root */ }
    }
    e = send_descriptor(h->console_fd, master);
    if (e < 0) goto out;
    for (int fd = 0; fd < 3; fd++) {
        if (dup2(slave, fd) < 0) { e = -errno; goto out; }
    }
    if (ioctl(0, TIOCSCTTY, 0) != 0) { e = -errno; goto out; }
out:
    close(master);
    if (slave >= 0) close(slave);
    return e;
}
