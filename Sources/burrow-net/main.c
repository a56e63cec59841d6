/* burrow-net: the userspace network of one container (see net.h).
 *
 *   burrow-net --tap FD --netns FD --userns FD [--ready FD]
 *              [--allow-host-loopback] [--resolv-conf FILE]
 *              [--tcp LISTENER_FD:CONTAINER_PORT]... [--udp SOCKET_FD:CONTAINER_PORT]...
 *
 * Started by the container's monitor (or by `burrow run`), which passes the
 * descriptors and kills it when the container ends. --ready gets "ok\n"
 * once every port is published, or one line saying what failed. */
#define _GNU_SOURCE
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int ready_fd = -1;

static void report(const char *error)
{
    if (ready_fd < 0) return;
    char line[256];
    int n = snprintf(line, sizeof line, "%s\n", error ? error : "ok");
    ssize_t ignored = write(ready_fd, line, (size_t)n);
    (void)ignored;
    close(ready_fd);
    ready_fd = -1;
}

static void fail(const char *what, int error)
{
    char line[200];
    snprintf(line, sizeof line, "%s: %s", what, strerror(error));
    report(line);
    fprintf(stderr, "burrow-net: %s\n", line);
    exit(1);
}

static int number(const char *text, long low, long high)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || *end || end == text || value < low || value > high) {
        fprintf(stderr, "burrow-net: bad number %s\n", text);
        exit(2);
    }
    return (int)value;
}

/* FD:CONTAINER_PORT */
static void parse_port(const char *text, int udp, struct port_forward *into)
{
    char copy[32];
    snprintf(copy, sizeof copy, "%s", text);
    char *colon = strchr(copy, ':');
    if (colon == NULL) { fprintf(stderr, "burrow-net: expected FD:PORT, not %s\n", text); exit(2); }
    *colon = 0;
    into->fd = number(copy, 0, 1 << 20);
    into->guest_port = (uint16_t)number(colon + 1, 1, 65535);
    into->udp = udp;
}

static int same_namespace(int fd, const char *own)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(own, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int main(int argc, char **argv)
{
    /* Whatever the starter blocked or ignored is not this process's business. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    struct net_options options;
    memset(&options, 0, sizeof options);
    options.tap_fd = options.netns_fd = -1;
    int userns_fd = -1;
    const char *resolv_conf = NULL;
    options.ports = calloc((size_t)argc, sizeof *options.ports);
    if (options.ports == NULL) return 1;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--allow-host-loopback") == 0) { options.allow_host_loopback = 1; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "burrow-net: %s needs a value\n", flag); return 2; }
        char *value = argv[++i];
        if (strcmp(flag, "--tap") == 0) options.tap_fd = number(value, 0, 1 << 20);
        else if (strcmp(flag, "--netns") == 0) options.netns_fd = number(value, 0, 1 << 20);
        else if (strcmp(flag, "--userns") == 0) userns_fd = number(value, 0, 1 << 20);
        else if (strcmp(flag, "--ready") == 0) ready_fd = number(value, 0, 1 << 20);
        else if (strcmp(flag, "--resolv-conf") == 0) resolv_conf = value;
        else if (strcmp(flag, "--udp") == 0) parse_port(value, 1, &options.ports[options.port_count++]);
        else if (strcmp(flag, "--tcp") == 0) parse_port(value, 0, &options.ports[options.port_count++]);
        else {
            fprintf(stderr, "burrow-net: unknown option %s\n", flag);
            return 2;
        }
    }
    if (options.tap_fd < 0 || options.netns_fd < 0) { fprintf(stderr, "burrow-net: --tap and --netns are needed\n"); return 2; }
    for (int fd = 0; fd < 3; fd++) if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);
    fcntl(options.tap_fd, F_SETFL, fcntl(options.tap_fd, F_GETFL) | O_NONBLOCK);

    /* Two descriptors per connection and two pipes: a thousand clients need
     * more than the usual soft limit. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    /* Entering the container's network namespace needs its user namespace
     * first; that is done while this process has one thread. */
    if (userns_fd >= 0 && !same_namespace(userns_fd, "/proc/self/ns/user") && setns(userns_fd, CLONE_NEWUSER) != 0)
        fail("enter the container's user namespace", errno);
    /* libslirp forwards DNS to the first nameserver of /etc/resolv.conf,
     * which it reads itself: another file is bound over it in a mount
     * namespace of this process alone. */
    if (resolv_conf != NULL) {
        if (unshare(CLONE_NEWNS) != 0) fail("make a mount namespace for --resolv-conf", errno);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("make the mount namespace private", errno);
        if (mount(resolv_conf, "/etc/resolv.conf", NULL, MS_BIND, NULL) != 0) fail("bind the resolver file over /etc/resolv.conf", errno);
    }

    int rc = forward_start(&options);
    if (rc < 0) fail("start the port forwarder in the container's network namespace", -rc);
    rc = slirp_run(&options, report);
    if (rc < 0) fail("run the network stack", -rc);
    return 0;
}
