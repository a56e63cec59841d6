/* The monitor's loop: while the container runs, its output goes to the log
 * and to every attached client, clients' input goes to the container, and
 * the container's end is seen and reaped. C because it is a poll(2) loop
 * over raw descriptors that must stay small for as long as the container
 * lives. */
#define _GNU_SOURCE
#include "burrow_monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define CLIENT_BACKLOG (8u << 20)      /* a client this far behind is dropped, not waited for */
#define STDIN_BACKLOG (256u << 10)     /* clients' input is not read while this much waits */
#define CHUNK (64u << 10)

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct client {
    int fd;
    uint32_t flags;
    int greeted;                /* accepted clients say what they attach first */
    int detached;
    uint8_t *in;                /* a frame being received */
    size_t in_length;
    uint8_t *out;               /* bytes not yet written to the client */
    size_t out_length, out_capacity;
};

struct monitor {
    const struct burrow_monitor_config *config;
    struct client clients[MAX_CLIENTS];
    int client_count;
    int stdout_fd, stderr_fd, pty_fd, stdin_fd, signal_fd;
    uint8_t *stdin_pending;
    size_t stdin_length;
    int stdin_close_requested;
    int exited;
    int status;
    uint64_t deadline;
    uint8_t *log_buffer;
    size_t log_length;
};

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* ---- the log ---- */

static void log_flush(struct monitor *m)
{
    size_t done = 0;
    while (done < m->log_length) {
        ssize_t n = write(m->config->log_fd, m->log_buffer + done, m->log_length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* a full disk loses log lines, never the container */
        done += (size_t)n;
    }
    m->log_length = 0;
}

/* One record per line; a chunk's tail without a newline is a partial record. */
static void log_output(struct monitor *m, uint8_t stream, const uint8_t *data, size_t length)
{
    if (m->config->log_fd < 0) return;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t stamp = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
    size_t start = 0;
    while (start < length) {
        const uint8_t *newline = memchr(data + start, '\n', length - start);
        size_t end = newline ? (size_t)(newline - data) + 1 : length;
        struct burrow_log_record record = { stamp, (uint32_t)(end - start), stream, newline ? 0 : 1, 0 };
        if (m->log_length + sizeof record + record.length > (CHUNK * 10)) log_flush(m);
        memcpy(m->log_buffer + m->log_length, &record, sizeof record);
        memcpy(m->log_buffer + m->log_length + sizeof record, data + start, record.length);
        m->log_length += sizeof record + record.length;
        start = end;
    }
    log_flush(m);
}

/* ---- clients ---- */

static void client_drop(struct monitor *m, int index)
{
    struct client *c = &m->clients[index];
    if ((c->flags & BURROW_ATTACH_STDIN_ONCE) && !c->detached) m->stdin_close_requested = 1;
    close(c->fd);
    free(c->in);
    free(c->out);
    m->clients[index] = m->clients[m->client_count - 1];
    m->client_count--;
}

static int client_add(struct monitor *m, int fd, uint32_t flags, int greeted)
{
    if (m->client_count == MAX_CLIENTS) { close(fd); return -1; }
    int keep = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, keep | O_NONBLOCK);
    struct client *c = &m->clients[m->client_count];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->flags = flags;
    c->greeted = greeted;
    c->in = malloc(sizeof(struct burrow_frame) + BURROW_FRAME_MAX);
    if (c->in == NULL) { close(fd); return -1; }
    m->client_count++;
    return 0;
}

/* Queues a frame; a client that cannot keep up is let go. */
static int client_queue(struct client *c, uint32_t type, const void *payload, uint32_t length)
{
    size_t need = c->out_length + sizeof(struct burrow_frame) + length;
    if (need > CLIENT_BACKLOG) return -1;
    if (need > c->out_capacity) {
        size_t capacity = c->out_capacity ? c->out_capacity : 4096;
        while (capacity < need) capacity *= 2;
        uint8_t *grown = realloc(c->out, capacity);
        if (grown == NULL) return -1;
        c->out = grown;
        c->out_capacity = capacity;
    }
    struct burrow_frame header = { type, length };
    memcpy(c->out + c->out_length, &header, sizeof header);
    if (length) memcpy(c->out + c->out_length + sizeof header, payload, length);
    c->out_length = need;
    return 0;
}

static int client_flush(struct client *c)
{
    while (c->out_length > 0) {
        ssize_t n = send(c->fd, c->out, c->out_length, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 0;
            return -1;
        }
        memmove(c->out, c->out + n, c->out_length - (size_t)n);
        c->out_length -= (size_t)n;
    }
    return 0;
}

static void broadcast(struct monitor *m, uint32_t type, uint32_t wanted, const uint8_t *data, uint32_t length)
{
    for (int i = m->client_count - 1; i >= 0; i--) {
        struct client *c = &m->clients[i];
        if (!c->greeted || !(c->flags & wanted)) continue;
        if (client_queue(c, type, data, length) != 0 || client_flush(c) != 0) client_drop(m, i);
    }
}

static void signal_container(struct monitor *m, int sig)
{
    if (m->exited) return;
    if (m->config->pidfd >= 0 && syscall(SYS_pidfd_send_signal, m->config->pidfd, sig, NULL, 0) == 0) return;
    kill(m->config->pid, sig);
}

static void queue_stdin(struct monitor *m, const uint8_t *data, uint32_t length)
{
    int target = m->pty_fd >= 0 ? m->pty_fd : m->stdin_fd;
    if (target < 0 || length == 0) return;
    uint8_t *grown = realloc(m->stdin_pending, m->stdin_length + length);
    if (grown == NULL) return;
    m->stdin_pending = grown;
    memcpy(m->stdin_pending + m->stdin_length, data, length);
    m->stdin_length += length;
}

static void handle_frame(struct monitor *m, int index, uint32_t type, const uint8_t *payload, uint32_t length)
{
    struct client *c = &m->clients[index];
    switch (type) {
    case BURROW_FRAME_HELLO:
        if (length >= 4) memcpy(&c->flags, payload, 4);
        c->greeted = 1;
        break;
    case BURROW_FRAME_STDIN:
        if (c->flags & BURROW_ATTACH_STDIN) queue_stdin(m, payload, length);
        break;
    case BURROW_FRAME_STDIN_EOF:
        if (c->flags & BURROW_ATTACH_STDIN_ONCE) m->stdin_close_requested = 1;
        break;
    case BURROW_FRAME_RESIZE:
        if (length >= 4 && m->pty_fd >= 0) {
            uint16_t size[2];
            memcpy(size, payload, 4);
            struct winsize w = { size[0], size[1], 0, 0 };
            ioctl(m->pty_fd, TIOCSWINSZ, &w);
        }
        break;
    case BURROW_FRAME_SIGNAL:
        if (length >= 4) {
            uint32_t sig;
            memcpy(&sig, payload, 4);
            if (sig > 0 && sig < 65) signal_container(m, (int)sig);
        }
        break;
    case BURROW_FRAME_DETACH:
        c->detached = 1;
        break;
    }
}

/* Reads what the client sent; 0 to keep it, -1 to let it go. */
static int client_read(struct monitor *m, int index)
{
    struct client *c = &m->clients[index];
    const size_t header = sizeof(struct burrow_frame);
    for (;;) {
        size_t want = header;
        if (c->in_length >= header) {
            struct burrow_frame f;
            memcpy(&f, c->in, header);
            if (f.length > BURROW_FRAME_MAX) return -1;
            want = header + f.length;
        }
        if (c->in_length == want) {
            struct burrow_frame f;
            memcpy(&f, c->in, header);
            c->in_length = 0;
            handle_frame(m, index, f.type, c->in + header, f.length);
            if (c->detached) return -1;
            if (m->stdin_length >= STDIN_BACKLOG) return 0;
            continue;
        }
        ssize_t n = read(c->fd, c->in + c->in_length, want - c->in_length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        if (n <= 0) return -1;
        c->in_length += (size_t)n;
    }
}

/* ---- the container's side ---- */

static void read_output(struct monitor *m, int *fd, uint8_t stream)
{
    uint8_t buffer[CHUNK];
    ssize_t n = read(*fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        /* EOF, or EIO from a terminal whose last holder closed it. */
        close_fd(fd);
        return;
    }
    log_output(m, stream, buffer, (size_t)n);
    uint32_t wanted = stream == 2 ? BURROW_ATTACH_STDERR : BURROW_ATTACH_STDOUT;
    broadcast(m, stream == 2 ? BURROW_FRAME_STDERR : BURROW_FRAME_STDOUT, wanted, buffer, (uint32_t)n);
}

static void write_stdin(struct monitor *m)
{
    int target = m->pty_fd >= 0 ? m->pty_fd : m->stdin_fd;
    if (target < 0) { m->stdin_length = 0; return; }
    while (m->stdin_length > 0) {
        ssize_t n = write(target, m->stdin_pending, m->stdin_length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n < 0) {
            /* The container closed its input: what is left has nowhere to go. */
            m->stdin_length = 0;
            if (target == m->stdin_fd) close_fd(&m->stdin_fd);
            return;
        }
        memmove(m->stdin_pending, m->stdin_pending + n, m->stdin_length - (size_t)n);
        m->stdin_length -= (size_t)n;
    }
}

static void reap(struct monitor *m)
{
    if (m->exited) return;
    int status = 0;
    if (m->config->pidfd >= 0) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (syscall(SYS_waitid, P_PIDFD, m->config->pidfd, &info, WEXITED | WNOHANG, NULL) != 0 || info.si_pid == 0) return;
        status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : (info.si_status & 0x7f);
    } else {
        if (waitpid(m->config->pid, &status, WNOHANG) != m->config->pid) return;
    }
    m->exited = 1;
    m->status = status;
    m->deadline = now_ms() + m->config->drain_ms;
}

static int exit_code(int status)
{
    if ((status & 0x7f) == 0) return (status >> 8) & 0xff;
    return 128 + (status & 0x7f);
}

static void finish(struct monitor *m)
{
    int32_t code = exit_code(m->status);
    for (int i = m->client_count - 1; i >= 0; i--) {
        struct client *c = &m->clients[i];
        if (client_queue(c, BURROW_FRAME_EXIT, &code, sizeof code) != 0) continue;
        /* The last words to each client, with a little patience. */
        uint64_t until = now_ms() + 1000;
        while (c->out_length > 0 && now_ms() < until) {
            if (client_flush(c) != 0) break;
            if (c->out_length == 0) break;
            struct pollfd p = { c->fd, POLLOUT, 0 };
            poll(&p, 1, 100);
        }
    }
    while (m->client_count > 0) {
        m->clients[0].detached = 1;
        client_drop(m, 0);
    }
}

int burrow_monitor_run(const struct burrow_monitor_config *config, int *wait_status)
{
    struct monitor m;
    memset(&m, 0, sizeof m);
    m.config = config;
    m.stdout_fd = config->stdout_fd;
    m.stderr_fd = config->stderr_fd;
    m.pty_fd = config->pty_fd;
    m.stdin_fd = config->stdin_fd;
    m.log_buffer = malloc(CHUNK * 10 + sizeof(struct burrow_log_record) * 2 + CHUNK);
    if (m.log_buffer == NULL) return -ENOMEM;
    if (m.stdin_fd >= 0) fcntl(m.stdin_fd, F_SETFL, fcntl(m.stdin_fd, F_GETFL) | O_NONBLOCK);
    if (m.pty_fd >= 0) fcntl(m.pty_fd, F_SETFL, fcntl(m.pty_fd, F_GETFL) | O_NONBLOCK);

    /* The monitor's own signals: passed on to the container (a stop of the
     * monitor is a stop of the container), never fatal to the monitor. */
    sigset_t handled;
    sigemptyset(&handled);
    int passed[] = { SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGHUP, SIGCHLD };
    for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++) sigaddset(&handled, passed[i]);
    sigprocmask(SIG_BLOCK, &handled, NULL);
    signal(SIGPIPE, SIG_IGN);
    m.signal_fd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);

    if (config->client_fd >= 0) client_add(&m, config->client_fd, config->client_flags, 1);

    for (;;) {
        reap(&m);
        if (m.stdin_close_requested && m.stdin_length == 0) {
            close_fd(&m.stdin_fd);
            m.stdin_close_requested = 0;
        }
        int output_open = m.stdout_fd >= 0 || m.stderr_fd >= 0 || m.pty_fd >= 0;
        if (m.exited && (!output_open || now_ms() >= m.deadline)) break;

        struct pollfd fds[MAX_CLIENTS + 8];
        int kinds[MAX_CLIENTS + 8];
        int n = 0;
        enum { K_PID, K_OUT, K_ERR, K_PTY, K_STDIN, K_LISTEN, K_SIGNAL, K_CLIENT };
        if (!m.exited && config->pidfd >= 0) { fds[n] = (struct pollfd){ config->pidfd, POLLIN, 0 }; kinds[n++] = K_PID; }
        if (m.stdout_fd >= 0) { fds[n] = (struct pollfd){ m.stdout_fd, POLLIN, 0 }; kinds[n++] = K_OUT; }
        if (m.stderr_fd >= 0) { fds[n] = (struct pollfd){ m.stderr_fd, POLLIN, 0 }; kinds[n++] = K_ERR; }
        if (m.pty_fd >= 0) {
            fds[n] = (struct pollfd){ m.pty_fd, (short)(POLLIN | (m.stdin_length ? POLLOUT : 0)), 0 };
            kinds[n++] = K_PTY;
        }
        if (m.stdin_fd >= 0 && m.stdin_length) { fds[n] = (struct pollfd){ m.stdin_fd, POLLOUT, 0 }; kinds[n++] = K_STDIN; }
        if (config->listen_fd >= 0 && !m.exited) { fds[n] = (struct pollfd){ config->listen_fd, POLLIN, 0 }; kinds[n++] = K_LISTEN; }
        if (m.signal_fd >= 0) { fds[n] = (struct pollfd){ m.signal_fd, POLLIN, 0 }; kinds[n++] = K_SIGNAL; }
        int first_client = n;
        for (int i = 0; i < m.client_count; i++) {
            short events = 0;
            if (m.stdin_length < STDIN_BACKLOG) events |= POLLIN;
            if (m.clients[i].out_length) events |= POLLOUT;
            fds[n] = (struct pollfd){ m.clients[i].fd, events, 0 };
            kinds[n++] = K_CLIENT;
        }
        int timeout = -1;
        if (m.exited) timeout = (int)(m.deadline > now_ms() ? m.deadline - now_ms() : 0);
        else if (config->pidfd < 0) timeout = 1000;
        int ready = poll(fds, (nfds_t)n, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            break;
        }
        /* Clients first, from the last: dropping one moves the last into its place. */
        for (int k = n - 1; k >= first_client; k--) {
            int index = k - first_client;
            if (index >= m.client_count) continue;
            short got = fds[k].revents;
            if (got & POLLOUT && client_flush(&m.clients[index]) != 0) { client_drop(&m, index); continue; }
            if (got & (POLLIN | POLLHUP | POLLERR) && client_read(&m, index) != 0) client_drop(&m, index);
        }
        for (int k = 0; k < first_client; k++) {
            short got = fds[k].revents;
            if (!got) continue;
            switch (kinds[k]) {
            case K_PID: reap(&m); break;
            case K_OUT: read_output(&m, &m.stdout_fd, 1); break;
            case K_ERR: read_output(&m, &m.stderr_fd, 2); break;
            case K_PTY:
                if (got & POLLOUT) write_stdin(&m);
                if (got & (POLLIN | POLLHUP | POLLERR) && m.pty_fd >= 0) read_output(&m, &m.pty_fd, 1);
                break;
            case K_STDIN:
                if (got & (POLLERR | POLLHUP)) { m.stdin_length = 0; close_fd(&m.stdin_fd); }
                else write_stdin(&m);
                break;
            case K_LISTEN: {
                int fd = accept4(config->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0) client_add(&m, fd, 0, 0);
                break;
            }
            case K_SIGNAL: {
                struct signalfd_siginfo info;
                while (read(m.signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
                    int sig = (int)info.ssi_signo;
                    if (sig == SIGCHLD) reap(&m);
                    else if (sig != SIGHUP) signal_container(&m, sig);
                }
                break;
            }
            }
        }
        if (m.stdin_length) write_stdin(&m);
    }
    if (m.exited && config->ended != NULL) config->ended(m.status, config->ended_context);
    /* Output that came before the end reaches the clients before they hear of it. */
    finish(&m);
    close_fd(&m.stdout_fd);
    close_fd(&m.stderr_fd);
    close_fd(&m.pty_fd);
    close_fd(&m.stdin_fd);
    close_fd(&m.signal_fd);
    free(m.log_buffer);
    free(m.stdin_pending);
    *wait_status = m.status;
    return m.exited ? 0 : -EIO;
}
