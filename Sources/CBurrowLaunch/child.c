/* The child of clone(): walks the plan's steps, then becomes the container's process.
 * C because nothing here may allocate, lock or enter the Swift runtime. */
#define _GNU_SOURCE
#include "launch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define PATH_BUF 4096

/* The kernel's layout, not glibc's struct sigaction. */
struct kernel_sigaction {
    unsigned long handler;
    unsigned long flags;
    unsigned long restorer;
    uint64_t mask;
};

/* Every call below is a raw system call: glibc's set*id wrappers would try to
 * reach the parent's other threads, which do not exist in this process. */

void child_report(const struct decoded_plan *plan, uint32_t kind, uint32_t step, int error)
{
    struct burrow_report r = { kind, step, error, 0 };
    ssize_t ignored = write(plan->report_write, &r, sizeof r);
    (void)ignored;
}

void child_fail(const struct decoded_plan *plan, uint32_t step, int error)
{
    child_report(plan, BURROW_REPORT_FATAL, step, error);
    syscall(SYS_exit_group, 125);
    __builtin_unreachable();
}

static size_t append(char *buf, size_t at, const char *s)
{
    while (*s && at < PATH_BUF - 1) buf[at++] = *s++;
    buf[at] = 0;
    return at;
}

static int apply_capabilities(const struct decoded_plan *plan)
{
    const struct burrow_plan_header *h = plan->header;
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)h->cap_effective;
    data[1].effective = (uint32_t)(h->cap_effective >> 32);
    data[0].permitted = (uint32_t)h->cap_permitted;
    data[1].permitted = (uint32_t)(h->cap_permitted >> 32);
    data[0].inheritable = (uint32_t)h->cap_inheritable;
    data[1].inheritable = (uint32_t)(h->cap_inheritable >> 32);
    if (syscall(SYS_capset, &header, data) != 0) return -errno;
    if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -errno;
    for (int cap = 0; cap <= plan->last_cap && cap < 64; cap++) {
        if (!(h->cap_ambient & (1ULL << cap))) continue;
        if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return -errno;
    }
    return 0;
}

static void become_process(const struct decoded_plan *plan)
{
    const struct burrow_plan_header *h = plan->header;

    if (h->flags & BURROW_PLAN_SET_CAPS) {
        for (int cap = 0; cap <= plan->last_cap && cap < 64; cap++) {
            if (h->cap_bounding & (1ULL << cap)) continue;
            if (syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
                child_fail(plan, BURROW_PHASE_BOUNDING, errno);
        }
        /* Keep the permitted set across the change of uid: the sets are applied below. */
        if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) child_fail(plan, BURROW_PHASE_CAPS, errno);
    }
    if (h->flags & BURROW_PLAN_SET_GROUPS) {
        if (syscall(SYS_setgroups, (size_t)h->groups_count, plan->groups) != 0)
            child_fail(plan, BURROW_PHASE_SETGROUPS, errno);
    }
    if (h->flags & BURROW_PLAN_SET_IDS) {
        if (syscall(SYS_setresgid, h->gid, h->gid, h->gid) != 0) child_fail(plan, BURROW_PHASE_SETGID, errno);
        if (syscall(SYS_setresuid, h->uid, h->uid, h->uid) != 0) child_fail(plan, BURROW_PHASE_SETUID, errno);
    }
    if (h->flags & BURROW_PLAN_SET_CAPS) {
        syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0);
        int rc = apply_capabilities(plan);
        if (rc < 0) child_fail(plan, BURROW_PHASE_CAPS, -rc);
    }
    for (uint32_t i = 0; i < h->rlimit_count; i++) {
        struct rlimit limit = { plan->rlimits[i].soft, plan->rlimits[i].hard };
        if (syscall(SYS_prlimit64, 0, plan->rlimits[i].resource, &limit, NULL) != 0)
            child_fail(plan, BURROW_PHASE_RLIMIT, errno);
    }
    /* A change of credentials clears the parent-death signal: set it after. */
    if (h->flags & BURROW_PLAN_PDEATHSIG) {
        if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(plan, BURROW_PHASE_PDEATHSIG, errno);
    }
    if (h->flags & BURROW_PLAN_NO_NEW_PRIVS) {
        if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(plan, BURROW_PHASE_NO_NEW_PRIVS, errno);
    }
    const char *cwd = plan_string(plan, h->cwd);
    if (cwd != NULL && chdir(cwd) != 0) child_fail(plan, BURROW_PHASE_CHDIR, errno);
    if (h->flags & BURROW_PLAN_CLOSE_FDS) {
        if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
            for (int fd = 3; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
}

/* Loaded last, so the filter judges the container's program and not the
 * steps that set it up; the exec that follows is the first call it sees. */
static void load_seccomp(const struct decoded_plan *plan)
{
    const struct burrow_plan_header *h = plan->header;
    if (h->seccomp_count == 0) return;
    struct sock_fprog program = { (unsigned short)h->seccomp_count, (struct sock_filter *)plan->seccomp };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) child_fail(plan, BURROW_PHASE_SECCOMP, errno);
}

/* execvpe without malloc: the container's PATH, the first match that runs.
 * ENOENT only when nothing was found at all, as a shell reports it. */
static void exec_program(const struct decoded_plan *plan)
{
    const char *file = plan->argv[0];
    if (strchr(file, '/') != NULL || file[0] == 0) {
        execve(file, plan->argv, plan->envp);
        child_fail(plan, BURROW_PHASE_EXEC, errno);
    }
    const char *search = plan_string(plan, plan->header->search_path);
    if (search == NULL) search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int seen_denied = 0;
    int other_error = 0;
    char candidate[PATH_BUF];
    const char *p = search;
    for (;;) {
        const char *end = strchrnul(p, ':');
        size_t n = (size_t)(end - p);
        if (n == 0) { candidate[0] = '.'; n = 1; } else if (n < PATH_BUF - 2) { memcpy(candidate, p, n); }
        else { n = 0; }
        if (n > 0) {
            candidate[n] = 0;
            size_t at = append(candidate, n, "/");
            append(candidate, at, file);
            execve(candidate, plan->argv, plan->envp);
            switch (errno) {
            case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: break;
            case EACCES: seen_denied = 1; break;
            default: if (other_error == 0) other_error = errno; break;
            }
        }
        if (*end == 0) break;
        p = end + 1;
    }
    child_fail(plan, BURROW_PHASE_EXEC, other_error ? other_error : seen_denied ? EACCES : ENOENT);
}

static int read_all(int fd, uint8_t *into, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, into + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/* The plan, once the parent has sent it: into the area mapped before clone,
 * its argv and envp arrays after it. Nothing comes (the parent gave up):
 * leave quietly. */
static void receive_plan(const struct child_start *start, struct decoded_plan *plan)
{
    uint64_t size = 0;
    if (read_all(start->sync_read, (uint8_t *)&size, sizeof size) != 0) syscall(SYS_exit_group, 125);
    size_t pointers_at = ((size_t)size + 7) & ~(size_t)7;
    if (size < sizeof(struct burrow_plan_header) || pointers_at >= start->area_size) syscall(SYS_exit_group, 125);
    if (read_all(start->sync_read, start->area, (size_t)size) != 0) syscall(SYS_exit_group, 125);
    /* The parent checked these bytes (plan_check) and the room they need. */
    plan_bind(start->area, (char **)(void *)(start->area + pointers_at), plan);
    plan->last_cap = start->last_cap;
    plan->report_write = start->report_write;
}

void child_main(const struct child_start *start)
{
    /* Holding the parent's end of the sync pipe would hide the parent's death. */
    close(start->parent_ends[0]);
    close(start->parent_ends[1]);

    /* Dispositions the CLI set must not leak into the container. */
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        struct kernel_sigaction action = { 0, 0, 0, 0 };
        syscall(SYS_rt_sigaction, sig, &action, NULL, 8);
    }
    uint64_t empty = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, 8);
    /* Until the plan says otherwise, a child whose parent is gone has no purpose. */
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

    /* Made here, while the parent decides the plan and writes the id maps
     * (see parent.c). Bringing up its loopback needs neither. */
    int network_error = 0;
    if (start->clone_flags & CLONE_NEWNET) {
        if (unshare(CLONE_NEWNET) != 0) network_error = errno;
        else network_error = -child_loopback_up();
        if (start->has_tap) network_error = child_tap_up(start, network_error);
    }

    struct decoded_plan decoded;
    receive_plan(start, &decoded);
    const struct decoded_plan *plan = &decoded;
    const struct burrow_plan_header *h = plan->header;
    if (network_error) child_fail(plan, BURROW_PHASE_NETWORK, network_error);
    if (!(h->flags & BURROW_PLAN_PDEATHSIG)) syscall(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);

    /* The monitor's pipes become the program's streams: dup2 leaves the
     * copies open across exec, the originals close there. */
    for (int fd = 0; fd < 3; fd++) {
        if (h->stdio_fds[fd] >= 0 && h->stdio_fds[fd] != fd && dup2(h->stdio_fds[fd], fd) < 0)
            child_fail(plan, BURROW_PHASE_STDIO, errno);
    }
    if (h->flags & (BURROW_PLAN_STDIN_NULL | BURROW_PLAN_DETACH_STDIO)) {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0 || dup2(fd, 0) < 0) child_fail(plan, BURROW_PHASE_STDIN, errno);
        if ((h->flags & BURROW_PLAN_DETACH_STDIO) && (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)) child_fail(plan, BURROW_PHASE_STDIN, errno);
        close(fd);
    }
    if ((h->flags & BURROW_PLAN_NEW_SESSION) && setsid() < 0) child_fail(plan, BURROW_PHASE_SESSION, errno);

    child_run_steps(plan);
    if (h->console_fd >= 0) {
        int rc = child_console(plan);
        if (rc < 0) child_fail(plan, BURROW_PHASE_CONSOLE, -rc);
    }
    become_process(plan);

    if (!(h->flags & BURROW_PLAN_EXEC)) syscall(SYS_exit_group, 0);
    load_seccomp(plan);
    exec_program(plan);
    __builtin_unreachable();
}
