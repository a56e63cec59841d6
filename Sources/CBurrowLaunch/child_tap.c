/* The container's end of the userspace network: a TAP device in its new
 * network namespace, addressed and routed before the plan arrives, handed
 * to the parent with the namespaces the network helper must enter.
 * C because this runs in the child of clone(): raw calls, no allocation. */
#define _GNU_SOURCE
#include "launch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_address(struct sockaddr *into, uint32_t address)
{
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = address;
    memcpy(into, &in, sizeof in);
}

static int configure(int tap, const struct burrow_tap *spec)
{
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, spec->name, sizeof request.ifr_name - 1);
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(tap, TUNSETIFF, &request) != 0) return -errno;

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    int rc = 0;
    request.ifr_mtu = (int)spec->mtu;
    if (rc == 0 && ioctl(s, SIOCSIFMTU, &request) != 0) rc = -errno;
    set_address(&request.ifr_addr, spec->address);
    if (rc == 0 && ioctl(s, SIOCSIFADDR, &request) != 0) rc = -errno;
    set_address(&request.ifr_netmask, spec->netmask);
    if (rc == 0 && ioctl(s, SIOCSIFNETMASK, &request) != 0) rc = -errno;
    if (rc == 0 && ioctl(s, SIOCGIFFLAGS, &request) != 0) rc = -errno;
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &request) != 0) rc = -errno;

    struct rtentry route;
    memset(&route, 0, sizeof route);
    set_address(&route.rt_dst, 0);
    set_address(&route.rt_genmask, 0);
    set_address(&route.rt_gateway, spec->gateway);
    route.rt_flags = RTF_UP | RTF_GATEWAY;
    if (rc == 0 && ioctl(s, SIOCADDRT, &route) != 0) rc = -errno;
    close(s);
    return rc;
}

static void send_result(int socket_fd, int error, const int *fds, int count)
{
    int32_t payload = error;
    struct iovec data = { &payload, sizeof payload };
    union {
        char buffer[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    if (count > 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE((size_t)count * sizeof(int));
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN((size_t)count * sizeof(int));
        memcpy(CMSG_DATA(header), fds, (size_t)count * sizeof(int));
    }
    while (sendmsg(socket_fd, &message, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

int child_tap_up(const struct child_start *start, int error)
{
    int fds[3] = { -1, -1, -1 };
    if (error == 0) {
        fds[0] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fds[0] < 0) error = errno;
    }
    if (error == 0) error = -configure(fds[0], &start->tap);
    if (error == 0) {
        fds[1] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        fds[2] = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
        if (fds[1] < 0 || fds[2] < 0) error = errno;
    }
    send_result(start->tap.socket, error, fds, error == 0 ? 3 : 0);
    for (int i = 0; i < 3; i++) if (fds[i] >= 0) close(fds[i]);
    close(start->tap.socket);
    return error;
}

int burrow_tap_receive(int socket_fd, int fds[3])
{
    int32_t payload = 0;
    struct iovec data = { &payload, sizeof payload };
    union {
        char buffer[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof control.buffer;
    ssize_t n;
    while ((n = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
    if (n < 0) return -errno;
    if (n != (ssize_t)sizeof payload) return -EPROTO;
    if (payload != 0) return -payload;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (header == NULL || header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(3 * sizeof(int))) return -EPROTO;
    memcpy(fds, CMSG_DATA(header), 3 * sizeof(int));
    return 0;
}
