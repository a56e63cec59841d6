/* Published TCP ports: a thread in the container's network namespace
 * accepts on the listeners burrow bound on the host, opens a socket to the
 * container's port there, and splices bytes between the two through pipes,
 * so no byte is copied into this process. */
#define _GNU_SOURCE
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define BULK_BYTES (4 << 20)
#define BULK_PIPE_BYTES (1 << 20)
/* Short exchanges are copied through one buffer; a flow gets its pipe once
 * it has moved this much, or when its sink cannot take what was read. The
 * buffer fits the smallest pipe the kernel gives a user over quota. */
#define COPY_BYTES (64 << 10)
#define COPY_BUFFER 4096

static char copy_buffer[COPY_BUFFER];

/* One direction of a connection: bytes read from `from` wait in the pipe
 * until `to` takes them. */
struct flow {
    int pipe[2];
    size_t buffered;
    int ended;                  /* `from` said EOF */
    int shut;                   /* `to` was told */
    size_t moved;               /* bytes so far, to grow the pipe for bulk transfers */
};

struct endpoint {
    int kind;                   /* FORWARD_TCP_SIDE */
    struct connection *connection;
    int side;                   /* 0: the client on the host, 1: the container's socket */
};

struct connection {
    struct connection *next_dead;
    int dead;
    int fd[2];
    struct flow flow[2];        /* flow[i] carries fd[i] to fd[1 - i] */
    struct endpoint end[2];
    int connecting;
};

struct listener {
    int kind;
    int fd;
    uint16_t guest_port;
};

static int epoll_fd = -1;
static struct udp_port **udp_ports;
static int udp_count;
/* Dropped during one batch of events, freed after it: a later event of the
 * same batch may name the connection's other end. */
static struct connection *dead_connections;
static int netns_fd = -1;
static sem_t entered;
static int enter_error;

static void drop(struct connection *c)
{
    if (c->dead) return;
    for (int i = 0; i < 2; i++) {
        if (c->fd[i] >= 0) close(c->fd[i]);
        for (int j = 0; j < 2; j++) if (c->flow[i].pipe[j] >= 0) close(c->flow[i].pipe[j]);
    }
    c->dead = 1;
    c->next_dead = dead_connections;
    dead_connections = c;
}

static void bury(void)
{
    while (dead_connections != NULL) {
        struct connection *c = dead_connections;
        dead_connections = c->next_dead;
        free(c);
    }
}

/* Tells the sink that no more bytes come, unless the other flow has ended
 * too: then closing the connection says it. */
static void end_flow(struct connection *c, int from)
{
    struct flow *f = &c->flow[from];
    if (f->shut) return;
    if (!c->flow[1 - from].shut) shutdown(c->fd[1 - from], SHUT_WR);
    f->shut = 1;
}

/* Copies a flow that has no pipe yet. 1 when it needs one from now on,
 * 0 when it has moved all it can, -1 when the connection is broken. */
static int copy(struct connection *c, int from)
{
    struct flow *f = &c->flow[from];
    int source = c->fd[from], sink = c->fd[1 - from];
    for (;;) {
        if (f->ended) { end_flow(c, from); return 0; }
        ssize_t n = recv(source, copy_buffer, sizeof copy_buffer, MSG_DONTWAIT);
        if (n == 0) { f->ended = 1; continue; }
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        ssize_t sent = send(sink, copy_buffer, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent < 0 && errno != EAGAIN && errno != EINTR) return -1;
        if (sent < 0) sent = 0;
        f->moved += (size_t)n;
        if (sent == n && f->moved < COPY_BYTES) continue;
        if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
        if (sent < n) {
            size_t rest = (size_t)(n - sent);
            if (write(f->pipe[1], copy_buffer + sent, rest) != (ssize_t)rest) return -1;
            f->buffered = rest;
        }
        return 1;
    }
}

/* Moves what it can of one flow. -1 when the connection is broken. */
static int pump(struct connection *c, int from)
{
    struct flow *f = &c->flow[from];
    int source = c->fd[from], sink = c->fd[1 - from];
    if (f->pipe[0] < 0) {
        int rc = copy(c, from);
        if (rc <= 0) return rc;
    }
    for (;;) {
        if (f->buffered > 0) {
            ssize_t n = splice(f->pipe[0], NULL, sink, NULL, f->buffered, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) { f->buffered -= (size_t)n; continue; }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return 0;
            return -1;
        }
        if (f->ended) { end_flow(c, from); return 0; }
        ssize_t n = splice(source, NULL, f->pipe[1], NULL, CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            f->buffered += (size_t)n;
            /* A bulk transfer gets a large pipe, so each wakeup moves more;
             * short exchanges keep the default and the user's pipe quota. */
            if (f->moved < BULK_BYTES && (f->moved += (size_t)n) >= BULK_BYTES) fcntl(f->pipe[1], F_SETPIPE_SZ, BULK_PIPE_BYTES);
            continue;
        }
        if (n == 0) { f->ended = 1; continue; }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return 0;
        return -1;
    }
}

static void serve(struct connection *c, int side, uint32_t events);

static void accept_client(const struct listener *l)
{
    for (;;) {
        int client = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) return;
        struct connection *c = calloc(1, sizeof *c);
        int upstream = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c == NULL || upstream < 0) {
            close(client);
            if (upstream >= 0) close(upstream);
            free(c);
            continue;
        }
        c->fd[0] = client;
        c->fd[1] = upstream;
        for (int i = 0; i < 2; i++) {
            c->flow[i].pipe[0] = c->flow[i].pipe[1] = -1;
            c->end[i] = (struct endpoint){ FORWARD_TCP_SIDE, c, i };
        }
        struct sockaddr_in guest = { .sin_family = AF_INET, .sin_port = htons(l->guest_port), .sin_addr = { htonl(NET_GUEST_ADDRESS) } };
        int rc = connect(upstream, (struct sockaddr *)&guest, sizeof guest);
        if (rc != 0 && errno != EINPROGRESS) {
            drop(c);
            continue;
        }

        c->connecting = rc != 0;
        /* Edge-triggered, registered once: every event pumps both flows
         * until the kernel says EAGAIN, so no readiness is ever missed and
         * no epoll_ctl is spent per chunk. */
        for (int side = 0; side < 2; side++) {
            struct epoll_event event = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &c->end[side] };
            epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd[side], &event);
        }
        if (!c->connecting) serve(c, 1, 0);
    }
}

static void serve(struct connection *c, int side, uint32_t events)
{
    if (c->dead) return;
    if (c->connecting) {
        if (side != 1) return;
        /* Nothing listens in the container yet: the client sees its
         * connection closed, as it would with a refusal, and tries again. */
        if (events & (EPOLLERR | EPOLLHUP)) { drop(c); return; }
        if (!(events & EPOLLOUT)) return;
        c->connecting = 0;
    }
    if (events & EPOLLERR) { drop(c); return; }
    if (pump(c, 0) < 0 || pump(c, 1) < 0) { drop(c); return; }
    if (c->flow[0].shut && c->flow[1].shut) { drop(c); return; }
}

static void *run(void *argument)
{
    (void)argument;
    /* The sockets to the container are made in its namespace: this thread
     * enters it, the rest of the process stays on the host's network. */
    enter_error = setns(netns_fd, CLONE_NEWNET) == 0 ? 0 : errno;
    sem_post(&entered);
    if (enter_error) return NULL;
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epoll_fd, events, 256, udp_count ? 10000 : -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return NULL;
        for (int i = 0; i < n; i++) {
            int kind = *(int *)events[i].data.ptr;
            if (kind == FORWARD_TCP_LISTENER) {
                accept_client(events[i].data.ptr);
            } else if (kind == FORWARD_TCP_SIDE) {
                struct endpoint *end = events[i].data.ptr;
                serve(end->connection, end->side, events[i].events);
            } else {
                udp_ready(epoll_fd, events[i].data.ptr);
            }
        }
        bury();
        for (int i = 0; i < udp_count; i++) udp_sweep(udp_ports[i]);
    }
}

int forward_start(const struct net_options *options)
{
    if (options->port_count == 0) return 0;
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) return -errno;
    netns_fd = options->netns_fd;
    udp_ports = calloc((size_t)options->port_count, sizeof *udp_ports);
    if (udp_ports == NULL) return -ENOMEM;
    for (int i = 0; i < options->port_count; i++) {
        const struct port_forward *port = &options->ports[i];
        fcntl(port->fd, F_SETFL, fcntl(port->fd, F_GETFL) | O_NONBLOCK);
        if (port->udp) {
            udp_ports[udp_count] = udp_port_new(epoll_fd, port->fd, port->guest_port);
            if (udp_ports[udp_count++] == NULL) return -errno;
            continue;
        }
        struct listener *l = calloc(1, sizeof *l);
        if (l == NULL) return -ENOMEM;
        *l = (struct listener){ FORWARD_TCP_LISTENER, port->fd, port->guest_port };
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = l };
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, l->fd, &event) != 0) return -errno;
    }
    sem_init(&entered, 0, 0);
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 64 << 10);
    int rc = pthread_create(&thread, &attributes, run, NULL);
    pthread_attr_destroy(&attributes);
    if (rc != 0) return -rc;
    while (sem_wait(&entered) != 0) {}
    return -enter_error;
}
