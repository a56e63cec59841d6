/* Published UDP ports: datagrams from each client on the host go out of a
 * socket of that client's own, opened in the container's namespace and
 * connected to the container's port, and the answers come back the same
 * way. Runs in the forwarder's thread and loop (forward.c). A client that
 * has been quiet for a while loses its socket, as with Docker's proxy. */
#define _GNU_SOURCE
#include "net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IDLE_SECONDS 90
#define DATAGRAM_MAX 65536

struct udp_port {
    int kind;                   /* FORWARD_UDP_PORT */
    int fd;
    uint16_t guest_port;
    struct udp_flow *flows;
};

struct udp_flow {
    int kind;                   /* FORWARD_UDP_FLOW */
    int fd;
    struct udp_port *port;
    struct sockaddr_storage client;
    socklen_t client_length;
    time_t last;
    struct udp_flow *next;
};

static uint8_t datagram[DATAGRAM_MAX];

static time_t now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

struct udp_port *udp_port_new(int epoll_fd, int fd, uint16_t guest_port)
{
    struct udp_port *port = calloc(1, sizeof *port);
    if (port == NULL) return NULL;
    *port = (struct udp_port){ FORWARD_UDP_PORT, fd, guest_port, NULL };
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = port };
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) { free(port); return NULL; }
    return port;
}

static struct udp_flow *flow_for(int epoll_fd, struct udp_port *port, const struct sockaddr_storage *client, socklen_t length)
{
    for (struct udp_flow *flow = port->flows; flow != NULL; flow = flow->next) {
        if (flow->client_length == length && memcmp(&flow->client, client, length) == 0) return flow;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in guest = { .sin_family = AF_INET, .sin_port = htons(port->guest_port), .sin_addr = { htonl(NET_GUEST_ADDRESS) } };
    struct udp_flow *flow = calloc(1, sizeof *flow);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = flow };
    if (flow == NULL || connect(fd, (struct sockaddr *)&guest, sizeof guest) != 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        close(fd);
        free(flow);
        return NULL;
    }
    flow->kind = FORWARD_UDP_FLOW;
    flow->fd = fd;
    flow->port = port;
    memcpy(&flow->client, client, length);
    flow->client_length = length;
    flow->next = port->flows;
    port->flows = flow;
    return flow;
}

void udp_ready(int epoll_fd, void *tagged)
{
    if (*(int *)tagged == FORWARD_UDP_PORT) {
        struct udp_port *port = tagged;
        for (int i = 0; i < 64; i++) {
            struct sockaddr_storage client;
            socklen_t length = sizeof client;
            ssize_t n = recvfrom(port->fd, datagram, sizeof datagram, MSG_DONTWAIT, (struct sockaddr *)&client, &length);
            if (n < 0) return;
            struct udp_flow *flow = flow_for(epoll_fd, port, &client, length);
            if (flow == NULL) continue;
            flow->last = now_seconds();
            ssize_t ignored = send(flow->fd, datagram, (size_t)n, MSG_DONTWAIT);
            (void)ignored;
        }
        return;
    }
    struct udp_flow *flow = tagged;
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(flow->fd, datagram, sizeof datagram, MSG_DONTWAIT);
        if (n < 0) return;
        flow->last = now_seconds();
        ssize_t ignored = sendto(flow->port->fd, datagram, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&flow->client, flow->client_length);
        (void)ignored;
    }
}

void udp_sweep(struct udp_port *port)
{
    time_t now = now_seconds();
    for (struct udp_flow **at = &port->flows; *at != NULL;) {
        struct udp_flow *flow = *at;
        if (now - flow->last < IDLE_SECONDS) { at = &flow->next; continue; }
        *at = flow->next;
        close(flow->fd);
        free(flow);
    }
}
