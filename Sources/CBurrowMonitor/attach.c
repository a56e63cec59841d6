/* The attach client's loop: the caller's terminal or pipes on one side, a
 * monitor's framed connection (run, start -a, attach) or a terminal master
 * (exec -t) on the other; detach keys, window sizes and signals on the way.
 * C because it is a poll(2) loop over raw descriptors and termios. */
#define _GNU_SOURCE
#include "burrow_monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct session {
    const struct burrow_attach_config *config;
    int stdin_open;
    size_t matched;             /* how much of the detach keys the input has matched so far */
    uint8_t held[33];           /* those bytes */
    int pty_open;
    int process_done;
    int status;
};

static int write_out(int fd, const uint8_t *bytes, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, bytes, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { fd, POLLOUT, 0 };
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0) return -errno;
        bytes += n;
        size -= (size_t)n;
    }
    return 0;
}

/* Input for the container: to the monitor as frames, or to the terminal. */
static int send_input(struct session *s, const uint8_t *bytes, size_t size)
{
    if (size == 0) return 0;
    if (s->config->socket_fd >= 0) return burrow_frame_write(s->config->socket_fd, BURROW_FRAME_STDIN, bytes, (uint32_t)size);
    return write_out(s->config->pty_fd, bytes, size);
}

/* Passes input on, holding back what may be the start of the detach keys:
 * a lone Ctrl-P followed by another key arrives as both keys. What is held
 * is always a prefix of the keys; on a mismatch its first byte goes on and
 * the rest is tried again, so overlapping sequences are found too. 1 when
 * the whole sequence was typed. The keys are at most 32 (DetachKeys). */
static int filter_input(struct session *s, const uint8_t *bytes, size_t size)
{
    const uint8_t *keys = s->config->detach_keys;
    size_t count = keys ? s->config->detach_keys_length : 0;
    if (count == 0) return send_input(s, bytes, size) < 0 ? -1 : 0;
    uint8_t out[4096 + 64];
    size_t length = 0;
    for (size_t i = 0; i < size; i++) {
        s->held[s->matched++] = bytes[i];
        while (s->matched > 0 && memcmp(s->held, keys, s->matched) != 0) {
            out[length++] = s->held[0];
            memmove(s->held, s->held + 1, --s->matched);
        }
        if (s->matched == count) {
            s->matched = 0;
            if (send_input(s, out, length) < 0) return -1;
            return 1;
        }
        if (length >= 4096) {
            if (send_input(s, out, length) < 0) return -1;
            length = 0;
        }
    }
    return send_input(s, out, length) < 0 ? -1 : 0;
}

static void send_size(struct session *s)
{
    struct winsize w;
    int source = isatty(s->config->stdout_fd) ? s->config->stdout_fd : s->config->stdin_fd;
    if (source < 0 || ioctl(source, TIOCGWINSZ, &w) != 0 || w.ws_row == 0) return;
    if (s->config->socket_fd >= 0) {
        uint16_t size[2] = { w.ws_row, w.ws_col };
        burrow_frame_write(s->config->socket_fd, BURROW_FRAME_RESIZE, size, sizeof size);
    } else if (s->config->pty_fd >= 0) {
        ioctl(s->config->pty_fd, TIOCSWINSZ, &w);
    }
}

static void pass_signal(struct session *s, int sig)
{
    if (s->config->socket_fd >= 0) {
        uint32_t value = (uint32_t)sig;
        burrow_frame_write(s->config->socket_fd, BURROW_FRAME_SIGNAL, &value, sizeof value);
    } else if (s->config->pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, s->config->pidfd, sig, NULL, 0);
    }
}

/* One frame from the monitor: 1 and the exit code when the container ended. */
static int from_monitor(struct session *s, int *code)
{
    static uint8_t payload[BURROW_FRAME_MAX];
    uint32_t type = 0;
    int n = burrow_frame_read(s->config->socket_fd, &type, payload, sizeof payload);
    if (n < 0) return n;
    switch (type) {
    case BURROW_FRAME_STDOUT:
        if (s->config->stdout_fd >= 0 && write_out(s->config->stdout_fd, payload, (size_t)n) < 0) return -EPIPE;
        break;
    case BURROW_FRAME_STDERR:
        if (s->config->stderr_fd >= 0 && write_out(s->config->stderr_fd, payload, (size_t)n) < 0) return -EPIPE;
        break;
    case BURROW_FRAME_EXIT:
        if (n >= 4) {
            int32_t value;
            memcpy(&value, payload, 4);
            *code = value;
            return 1;
        }
        break;
    }
    return 0;
}

static void reap(struct session *s)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (syscall(SYS_waitid, P_PIDFD, s->config->pidfd, &info, WEXITED | WNOHANG, NULL) != 0 || info.si_pid == 0) return;
    s->process_done = 1;
    s->status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) : 128 + (info.si_status & 0x7f);
}

static int relay(struct session *s, int signal_fd)
{
    const struct burrow_attach_config *c = s->config;
    uint8_t buffer[4096];
    for (;;) {
        if (c->socket_fd < 0 && s->process_done && !s->pty_open) return s->status;
        struct pollfd fds[4];
        int n = 0, at_peer = -1, at_stdin = -1, at_signal = -1, at_pid = -1;
        if (c->socket_fd >= 0) { fds[n] = (struct pollfd){ c->socket_fd, POLLIN, 0 }; at_peer = n++; }
        else if (s->pty_open) { fds[n] = (struct pollfd){ c->pty_fd, POLLIN, 0 }; at_peer = n++; }
        if (s->stdin_open) { fds[n] = (struct pollfd){ c->stdin_fd, POLLIN, 0 }; at_stdin = n++; }
        if (signal_fd >= 0) { fds[n] = (struct pollfd){ signal_fd, POLLIN, 0 }; at_signal = n++; }
        if (c->socket_fd < 0 && !s->process_done && c->pidfd >= 0) { fds[n] = (struct pollfd){ c->pidfd, POLLIN, 0 }; at_pid = n++; }
        /* A process that ended while its terminal is held open elsewhere: a
         * moment for the last output, then done. */
        int timeout = (c->socket_fd < 0 && s->process_done) ? 200 : -1;
        int ready = poll(fds, (nfds_t)n, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (ready == 0) return s->status;
        if (at_peer >= 0 && fds[at_peer].revents) {
            if (c->socket_fd >= 0) {
                int code = 0;
                int rc = from_monitor(s, &code);
                if (rc == 1) return code;
                if (rc < 0) return rc == -EPIPE ? BURROW_ATTACH_LOST : rc;
            } else {
                ssize_t got = read(c->pty_fd, buffer, sizeof buffer);
                if (got > 0) {
                    if (write_out(c->stdout_fd, buffer, (size_t)got) < 0) return -EPIPE;
                } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                    s->pty_open = 0;
                }
            }
        }
        if (at_stdin >= 0 && fds[at_stdin].revents) {
            ssize_t got = read(c->stdin_fd, buffer, sizeof buffer);
            if (got > 0) {
                int rc = filter_input(s, buffer, (size_t)got);
                if (rc == 1) {
                    if (c->socket_fd >= 0) burrow_frame_write(c->socket_fd, BURROW_FRAME_DETACH, NULL, 0);
                    return BURROW_ATTACH_DETACHED;
                }
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                s->stdin_open = 0;
                if (c->socket_fd >= 0) burrow_frame_write(c->socket_fd, BURROW_FRAME_STDIN_EOF, NULL, 0);
            }
        }
        if (at_signal >= 0 && fds[at_signal].revents) {
            struct signalfd_siginfo info;
            while (read(signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
                if ((int)info.ssi_signo == SIGWINCH) send_size(s);
                else pass_signal(s, (int)info.ssi_signo);
            }
        }
        if (at_pid >= 0 && fds[at_pid].revents) reap(s);
    }
}

int burrow_attach_run(const struct burrow_attach_config *c)
{
    struct session s;
    memset(&s, 0, sizeof s);
    s.config = c;
    s.stdin_open = c->stdin_fd >= 0;
    s.pty_open = c->pty_fd >= 0;

    struct termios saved;
    int raw = c->tty && c->stdin_fd >= 0 && isatty(c->stdin_fd) && tcgetattr(c->stdin_fd, &saved) == 0;
    if (raw) {
        struct termios mode = saved;
        cfmakeraw(&mode);
        tcsetattr(c->stdin_fd, TCSANOW, &mode);
    }
    sigset_t handled, before;
    sigemptyset(&handled);
    if (c->tty) sigaddset(&handled, SIGWINCH);
    if (c->proxy_signals) {
        int passed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++) sigaddset(&handled, passed[i]);
    }
    sigprocmask(SIG_BLOCK, &handled, &before);
    struct sigaction ignore, pipe_before;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &pipe_before);
    int signal_fd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);

    if (c->tty) send_size(&s);
    int result = relay(&s, signal_fd);

    if (signal_fd >= 0) close(signal_fd);
    sigaction(SIGPIPE, &pipe_before, NULL);
    sigprocmask(SIG_SETMASK, &before, NULL);
    if (raw) tcsetattr(c->stdin_fd, TCSANOW, &saved);
    return result;
}
