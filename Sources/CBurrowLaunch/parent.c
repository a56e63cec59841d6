/* The parent side of a launch: clone into the namespaces, release the child,
 * wait while forwarding signals. C because clone() returns twice. */
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

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

int burrow_launch_start(const uint8_t *plan_bytes, size_t plan_size, struct burrow_child *child)
{
    struct decoded_plan plan;
    int rc = plan_decode(plan_bytes, plan_size, &plan);
    if (rc < 0) return rc;

    int sync_pipe[2], report_pipe[2];
    if (pipe2(sync_pipe, O_CLOEXEC) != 0) { rc = -errno; plan_free(&plan); return rc; }
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        rc = -errno;
        close(sync_pipe[0]); close(sync_pipe[1]);
        plan_free(&plan);
        return rc;
    }
    plan.sync_read = sync_pipe[0];
    plan.report_write = report_pipe[1];
    plan.parent_ends[0] = sync_pipe[1];
    plan.parent_ends[1] = report_pipe[0];

    /* Everything blocked across clone, so no handler of this process runs in
     * the child; the child resets dispositions and unblocks. */
    burrow_block_forwarded_signals();
    sigset_t all, before;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &before);

    int pidfd = -1;
    struct clone_args_v0 args;
    memset(&args, 0, sizeof args);
    /* A network namespace takes the kernel most of a millisecond to make:
     * the child makes it itself while this process writes the id maps and
     * the container's files, instead of clone() making this process wait. */
    uint64_t flags = plan.header->clone_flags & ~(uint64_t)CLONE_NEWNET;
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS) {
        pidfd = -1;
        pid = syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, NULL);
    }
    if (pid == 0) child_main(&plan);
    int clone_errno = errno;

    sigprocmask(SIG_SETMASK, &before, NULL);
    close(sync_pipe[0]);
    close(report_pipe[1]);
    plan_free(&plan);
    if (pid < 0) {
        close(sync_pipe[1]);
        close(report_pipe[0]);
        restore_signals();
        return -clone_errno;
    }
    child->pid = (int)pid;
    child->pidfd = pidfd;
    child->sync_fd = sync_pipe[1];
    child->report_fd = report_pipe[0];
    return 0;
}

/* A child that has already exec'd or died closed its end: the write must
 * fail with EPIPE, not kill this process with SIGPIPE. */
static int send_go(struct burrow_child *child)
{
    sigset_t pipe_only, before;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &before);
    char go = 1;
    ssize_t n;
    do { n = write(child->sync_fd, &go, 1); } while (n < 0 && errno == EINTR);
    int rc = n == 1 ? 0 : -errno;
    if (rc == -EPIPE) {
        struct timespec now = { 0, 0 };
        sigtimedwait(&pipe_only, NULL, &now);
    }
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    return rc;
}

int burrow_launch_release(struct burrow_child *child)
{
    int rc = send_go(child);
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
