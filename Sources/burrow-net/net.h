/* burrow-net: a container's userspace network. libslirp on the TAP device
 * the container's first process made, and the forwarders of its published
 * TCP ports. A process of its own because libslirp is a shared library the
 * static burrow cannot link, and because its memory is then its own. */
#ifndef BURROW_NET_H
#define BURROW_NET_H

#include <stdint.h>
#include <netinet/in.h>

#define NET_GUEST_ADDRESS 0x0a000264u   /* 10.0.2.100: the container's eth0 */
#define NET_NETWORK       0x0a000200u   /* 10.0.2.0/24 */
#define NET_NETMASK       0xffffff00u
#define NET_GATEWAY       0x0a000202u   /* 10.0.2.2: the host, seen from the container */
#define NET_DHCP_START    0x0a00020fu
#define NET_NAMESERVER    0x0a000203u   /* 10.0.2.3: libslirp's DNS forwarder */
#define NET_MTU           65520

/* A published port: the socket burrow bound on the host (listening, for
 * TCP) and the container's port it reaches. */
struct port_forward {
    int fd;
    int udp;
    uint16_t guest_port;
};

struct net_options {
    int tap_fd;
    int netns_fd;
    int allow_host_loopback;
    struct port_forward *ports;
    int port_count;
};

/* What the forwarder's epoll events point to starts with one of these. */
enum { FORWARD_TCP_LISTENER = 1, FORWARD_TCP_SIDE, FORWARD_UDP_PORT, FORWARD_UDP_FLOW };

/* Runs libslirp on the TAP device until the process is killed. `ready` is
 * called once the stack is up (with NULL), or with the reason it is not.
 * Returns only on failure, -errno. */
int slirp_run(const struct net_options *options, void (*ready)(const char *error));

/* Starts the thread that serves the published ports from the container's
 * network namespace: it accepts on the TCP listeners and splices each
 * connection to a socket it opens there, and relays UDP (udp.c). 0, or -errno. */
int forward_start(const struct net_options *options);

struct udp_port;
struct udp_port *udp_port_new(int epoll_fd, int fd, uint16_t guest_port);
/* A UDP port or one of its flows is readable. */
void udp_ready(int epoll_fd, void *tagged);
/* Closes the flows of clients quiet for long. */
void udp_sweep(struct udp_port *port);

#endif
