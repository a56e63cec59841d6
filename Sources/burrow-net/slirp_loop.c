/* libslirp on the container's TAP device: frames from the device go into
 * the stack, the stack's frames go out to it; sockets and timers in one
 * poll loop. */
#define _GNU_SOURCE
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct timer {
    SlirpTimerCb callback;
    void *opaque;
    int64_t expires_ms;         /* -1: not armed */
    struct timer *next;
};

struct loop {
    int tap;
    Slirp *slirp;
    struct timer *timers;
    struct pollfd *fds;
    int count, capacity;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t send_packet(const void *frame, size_t length, void *opaque)
{
    struct loop *loop = opaque;
    ssize_t n = write(loop->tap, frame, length);
    /* A full device queue drops the frame; TCP sends it again. */
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return (ssize_t)length;
    return n;
}

static void guest_error(const char *message, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "burrow-net: %s\n", message);
}

static int64_t clock_get_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static void *timer_new(SlirpTimerCb callback, void *callback_opaque, void *opaque)
{
    struct loop *loop = opaque;
    struct timer *timer = calloc(1, sizeof *timer);
    if (timer == NULL) abort();
    timer->callback = callback;
    timer->opaque = callback_opaque;
    timer->expires_ms = -1;
    timer->next = loop->timers;
    loop->timers = timer;
    return timer;
}

static void timer_free(void *handle, void *opaque)
{
    struct loop *loop = opaque;
    for (struct timer **at = &loop->timers; *at != NULL; at = &(*at)->next) {
        if (*at == handle) {
            *at = ((struct timer *)handle)->next;
            free(handle);
            return;
        }
    }
}

static void timer_mod(void *handle, int64_t expires_ms, void *opaque)
{
    (void)opaque;
    ((struct timer *)handle)->expires_ms = expires_ms;
}

static void nothing_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void notify(void *opaque) { (void)opaque; }

static int add_poll(int fd, int events, void *opaque)
{
    struct loop *loop = opaque;
    if (loop->count == loop->capacity) {
        loop->capacity = loop->capacity ? loop->capacity * 2 : 64;
        loop->fds = realloc(loop->fds, (size_t)loop->capacity * sizeof *loop->fds);
        if (loop->fds == NULL) abort();
    }
    short wanted = 0;
    if (events & SLIRP_POLL_IN) wanted |= POLLIN;
    if (events & SLIRP_POLL_OUT) wanted |= POLLOUT;
    if (events & SLIRP_POLL_PRI) wanted |= POLLPRI;
    loop->fds[loop->count] = (struct pollfd){ fd, wanted, 0 };
    return loop->count++;
}

static int get_revents(int index, void *opaque)
{
    struct loop *loop = opaque;
    short got = loop->fds[index].revents;
    int events = 0;
    if (got & POLLIN) events |= SLIRP_POLL_IN;
    if (got & POLLOUT) events |= SLIRP_POLL_OUT;
    if (got & POLLPRI) events |= SLIRP_POLL_PRI;
    if (got & POLLERR) events |= SLIRP_POLL_ERR;
    if (got & POLLHUP) events |= SLIRP_POLL_HUP;
    return events;
}

static const SlirpCb callbacks = {
    .send_packet = send_packet,
    .guest_error = guest_error,
    .clock_get_ns = clock_get_ns,
    .timer_new = timer_new,
    .timer_free = timer_free,
    .timer_mod = timer_mod,
    .register_poll_fd = nothing_fd,
    .unregister_poll_fd = nothing_fd,
    .notify = notify,
};

static void run_timers(struct loop *loop, uint32_t *timeout)
{
    int64_t now = now_ns() / 1000000;
    for (struct timer *timer = loop->timers; timer != NULL;) {
        struct timer *next = timer->next;
        if (timer->expires_ms >= 0 && timer->expires_ms <= now) {
            timer->expires_ms = -1;
            timer->callback(timer->opaque);
        }
        timer = next;
    }
    for (struct timer *timer = loop->timers; timer != NULL; timer = timer->next) {
        if (timer->expires_ms < 0) continue;
        int64_t wait = timer->expires_ms - now;
        if (wait < 0) wait = 0;
        if ((uint64_t)wait < *timeout) *timeout = (uint32_t)wait;
    }
}

static void read_frames(struct loop *loop)
{
    static uint8_t frame[NET_MTU + 64];
    for (int i = 0; i < 64; i++) {
        ssize_t n = read(loop->tap, frame, sizeof frame);
        if (n <= 0) return;
        slirp_input(loop->slirp, frame, (int)n);
    }
}

static struct in_addr address(uint32_t host_order)
{
    struct in_addr in = { htonl(host_order) };
    return in;
}

int slirp_run(const struct net_options *options, void (*ready)(const char *error))
{
    static struct loop loop;
    loop.tap = options->tap_fd;

    SlirpConfig config;
    memset(&config, 0, sizeof config);
    config.version = 4;
    config.in_enabled = true;
    config.vnetwork = address(NET_NETWORK);
    config.vnetmask = address(NET_NETMASK);
    config.vhost = address(NET_GATEWAY);
    config.vdhcp_start = address(NET_DHCP_START);
    config.vnameserver = address(NET_NAMESERVER);
    config.if_mtu = NET_MTU;
    config.if_mru = NET_MTU;
    config.disable_host_loopback = !options->allow_host_loopback;
    config.disable_dhcp = true;
    loop.slirp = slirp_new(&config, &callbacks, &loop);
    if (loop.slirp == NULL) {
        ready("libslirp could not start");
        return -ENOMEM;
    }

    ready(NULL);

    for (;;) {
        uint32_t timeout = UINT32_MAX;
        loop.count = 0;
        add_poll(loop.tap, SLIRP_POLL_IN, &loop);
        slirp_pollfds_fill(loop.slirp, &timeout, add_poll, &loop);
        run_timers(&loop, &timeout);
        int n = poll(loop.fds, (nfds_t)loop.count, timeout == UINT32_MAX ? -1 : (int)timeout);
        if (n < 0 && errno != EINTR) return -errno;
        if (n > 0 && (loop.fds[0].revents & POLLIN)) read_frames(&loop);
        if (n > 0 && (loop.fds[0].revents & (POLLHUP | POLLERR))) return 0;
        slirp_pollfds_poll(loop.slirp, n < 0, get_revents, &loop);
    }
}
