/* The parent side of a launch: clone into the namespaces, send the child its
 * plan, wait while forwarding signals. C because clone() returns twice. */
#define _GNU_SOURCE
#include "launch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static sigset_t saved_mask;
static int mask_saved = 0;

/* Signals a user sends to `burrow run` that belong to the container. Job
 * control stays with the terminal, faults with this process. */
static void forwarded_set(sigset_t *set)
{
    sigemptyset(set);
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        switch (sig) {
        case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGPIPE: case SIGWINCH:
        case SIGTSTP: case SIGTTIN: case SIGTTOU:
        case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS:
            continue;
        }
        sigaddset(set, sig);
    }
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++) sigaddset(set, sig);
    sigaddset(set, SIGCHLD);
}

void burrow_block_forwarded_signals(void)
{
    if (mask_saved) return;
    sigset_t set;
    forwarded_set(&set);
    sigprocmask(SIG_BLOCK, &set, &saved_mask);
    mask_saved = 1;
}

static void restore_signals(void)
{
    if (!mask_saved) return;
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
    mask_saved = 0;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* The kernel reads as much of this as the size it is given: 64 bytes (5.3)
 * without a cgroup, 88 (5.7, CLONE_INTO_CGROUP) with one. */
struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64

static int reap(int pid, int pidfd, int *wait_status, int block);

/* Where clone3 cannot start the child in its cgroup (a kernel before 5.7),
 * it moves there now, while it still waits for its plan. */
static int write_cgroup_procs(int cgroup_fd, long pid)
{
    int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char text[24];
    size_t at = sizeof text;
    do { text[--at] = (char)('0' + pid % 10); pid /= 10; } while (pid > 0);
    ssize_t n = write(fd, text + at, sizeof text - at);
    int rc = n == (ssize_t)(sizeof text - at) ? 0 : n < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}

int burrow_launch_clone(uint64_t clone_flags, int cgroup_fd, const struct burrow_tap *tap, struct burrow_child *child)
{
    child->cgroup_error = 0;
    struct child_start start;
    memset(&start, 0, sizeof start);
    start.clone_flags = clone_flags;
    start.last_cap = plan_read_last_cap();
    start.area_size = BURROW_PLAN_AREA_SIZE;
    /* Untouched until the child writes its plan there: the parent pays for
     * no page of it. */
    void *area = mmap(NULL, start.area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) return -errno;
    start.area = area;

    int sync_pipe[2], report_pipe[2];
    int rc;
    if (pipe2(sync_pipe, O_CLOEXEC) != 0) { rc = -errno; munmap(area, start.area_size); return rc; }
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        rc = -errno;
        close(sync_pipe[0]); close(sync_pipe[1]);
        munmap(area, start.area_size);
        return rc;
    }
    start.sync_read = sync_pipe[0];
    start.report_write = report_pipe[1];
    start.parent_ends[0] = sync_pipe[1];
    start.parent_ends[1] = report_pipe[0];
    if (tap != NULL && (clone_flags & CLONE_NEWNET)) {
        start.has_tap = 1;
        start.tap = *tap;
    }

    /* Everything blocked across clone, so no handler of this process runs in
     * the child; the child resets dispositions and unblocks. */
    burrow_block_forwarded_signals();
    sigset_t all, before;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &before);

    int pidfd = -1;
    struct clone_args_v2 args;
    memset(&args, 0, sizeof args);
    /* A network namespace takes the kernel most of a millisecond to make:
     * the child makes it itself while this process decides the plan and
     * writes the id maps, instead of clone() making this process wait. */
    uint64_t flags = clone_flags & ~(uint64_t)CLONE_NEWNET;
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    long pid = -1;
    int in_cgroup = 0;
    if (cgroup_fd >= 0) {
        /* Born in its cgroup, so no moment of the child escapes its limits.
         * Whatever refuses this (an older kernel, or the cgroup itself) is
         * told apart below: a plain clone, then a write to cgroup.procs. */
        struct clone_args_v2 into = args;
        into.flags |= CLONE_INTO_CGROUP;
        into.cgroup = (uint64_t)cgroup_fd;
        pid = syscall(SYS_clone3, &into, sizeof into);
        if (pid == 0) child_main(&start);
        in_cgroup = pid > 0;
    }
    if (pid < 0) pid = syscall(SYS_clone3, &args, CLONE_ARGS_SIZE_VER0);
    if (pid < 0 && errno == ENOSYS) {
        pidfd = -1;
        pid = syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, NULL);
    }
    if (pid == 0) child_main(&start);
    int clone_errno = errno;

    sigprocmask(SIG_SETMASK, &before, NULL);
    close(sync_pipe[0]);
    close(report_pipe[1]);
    munmap(area, start.area_size);
    if (pid < 0) {
        close(sync_pipe[1]);
        close(report_pipe[0]);
        restore_signals();
        return -clone_errno;
    }
    if (cgroup_fd >= 0 && !in_cgroup) {
        rc = write_cgroup_procs(cgroup_fd, pid);
        if (rc < 0) {
            int status;
            kill((int)pid, SIGKILL);
            while (reap((int)pid, pidfd, &status, 1) == 0) {}
            if (pidfd >= 0) close(pidfd);
            close(sync_pipe[1]);
            close(report_pipe[0]);
            restore_signals();
            child->cgroup_error = -rc;
            return rc;
        }
    }
    child->pid = (int)pid;
    child->pidfd = pidfd;
    child->sync_fd = sync_pipe[1];
    child->report_fd = report_pipe[0];
    child->clone_flags = clone_flags;
    return 0;
}

/* A child that has died closed its end: the write must fail with EPIPE, not
 * kill this process with SIGPIPE. */
static int write_all(int fd, const uint8_t *bytes, size_t size)
{
    sigset_t pipe_only, before;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &before);
    int rc = 0;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, bytes + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = -errno; break; }
        done += (size_t)n;
    }
    if (rc == -EPIPE) {
        struct timespec now = { 0, 0 };
        sigtimedwait(&pipe_only, NULL, &now);
    }
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    return rc;
}

int burrow_launch_send(struct burrow_child *child, const uint8_t *plan, size_t plan_size)
{
    int rc = plan_check(plan, plan_size);
    const struct burrow_plan_header *h = (const struct burrow_plan_header *)plan;
    if (rc == 0 && h->clone_flags != child->clone_flags) rc = -EINVAL;
    if (rc == 0 && ((plan_size + 7) & ~(size_t)7) + plan_pointer_space(plan) > BURROW_PLAN_AREA_SIZE) rc = -E2BIG;
    if (rc == 0) {
        uint64_t size = plan_size;
        rc = write_all(child->sync_fd, (const uint8_t *)&size, sizeof size);
        if (rc == 0) rc = write_all(child->sync_fd, plan, plan_size);
    }
    close(child->sync_fd);
    child->sync_fd = -1;
    return rc;
}

static int reap(int pid, int pidfd, int *wait_status, int block)
{
    if (pidfd >= 0) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        int rc = (int)syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | (block ? 0 : WNOHANG), NULL);
        if (rc != 0) return errno == EINTR ? 0 : -errno;
        if (info.si_pid == 0) return 0;
        *wait_status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : (info.si_status & 0x7f);
        return 1;
    }
    int rc = waitpid(pid, wait_status, block ? 0 : WNOHANG);
    if (rc < 0) return errno == EINTR ? 0 : -errno;
    return rc == pid ? 1 : 0;
}

int burrow_wait_forwarding(int pid, int pidfd, int *wait_status)
{
    burrow_block_forwarded_signals();
    sigset_t set;
    forwarded_set(&set);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    int result = 0;
    for (;;) {
        int done = reap(pid, pidfd, wait_status, 0);
        if (done < 0) { result = done; break; }
        if (done == 1) break;
        if (sfd < 0) {
            done = reap(pid, pidfd, wait_status, 1);
            if (done < 0) { result = done; break; }
            if (done == 1) break;
            continue;
        }
        struct pollfd fds[2] = { { sfd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
        int n = poll(fds, pidfd >= 0 ? 2 : 1, -1);
        if (n < 0 && errno != EINTR) { result = -errno; break; }
        struct signalfd_siginfo info;
        while (read(sfd, &info, sizeof info) == (ssize_t)sizeof info) {
            if ((int)info.ssi_signo != SIGCHLD) kill(pid, (int)info.ssi_signo);
        }
    }
    if (sfd >= 0) close(sfd);
    restore_signals();
    return result;
}
