/* The steps of a launch plan that build the container's file system view:
 * mounts resolved inside the new root, pivot_root, hostname, loopback.
 * C because it runs in the child of clone(), where only raw system calls are safe. */
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

static void fd_path(char buf[64], int fd)
{
    static const char prefix[] = "/proc/self/fd/";
    char digits[16];
    int n = 0;
    memcpy(buf, prefix, sizeof prefix);
    do { digits[n++] = (char)('0' + fd % 10); fd /= 10; } while (fd > 0);
    size_t at = sizeof prefix - 1;
    while (n > 0) buf[at++] = digits[--n];
    buf[at] = 0;
}

static int open_in_root(int root, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/') path++;
    if (*path == 0) path = ".";
    long fd = syscall(SYS_openat2, root, path, &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}

/* The parent directory of `path` inside the root, and the last component. */
static int open_parent(int root, const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        *name = path;
        return open_in_root(root, "/", O_PATH | O_DIRECTORY);
    }
    char parent[PATH_BUF];
    size_t n = (size_t)(slash - path);
    if (n >= PATH_BUF) return -ENAMETOOLONG;
    memcpy(parent, path, n);
    parent[n] = 0;
    *name = slash + 1;
    return open_in_root(root, n == 0 ? "/" : parent, O_PATH | O_DIRECTORY);
}

/* `path` with its component [start, end), a symlink whose text is `text`,
 * replaced by that text: an absolute link starts again at the root, a
 * relative one at the link's directory (path up to `start`). The rest of
 * the path follows. */
static int substitute_link(const char *path, size_t start, size_t end, const char *text, char out[PATH_BUF])
{
    size_t at = 0;
    if (text[0] != '/') {
        memcpy(out, path, start);
        at = start;
        if (at == 0 || out[at - 1] != '/') out[at++] = '/';
    }
    size_t text_length = strlen(text), rest_length = strlen(path + end);
    if (at + text_length + rest_length + 1 >= PATH_BUF) return -ENAMETOOLONG;
    memcpy(out + at, text, text_length);
    memcpy(out + at + text_length, path + end, rest_length + 1);
    return 0;
}

/* When the entry `name` of `dir` (component [start, end) of `path`) is a
 * symlink that leads nowhere yet, writes into `out` the path to create
 * instead and returns 1; 0 when it is not a symlink, or -errno. */
static int dangling_link(int dir, const char *name, const char *path, size_t start, size_t end, char out[PATH_BUF])
{
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) return 0;
    char text[PATH_BUF];
    ssize_t n = readlinkat(dir, name, text, sizeof text - 1);
    if (n < 0) return -errno;
    text[n] = 0;
    int rc = substitute_link(path, start, end, text, out);
    return rc < 0 ? rc : 1;
}

/* One attempt of open_creating. A symlink met on the way that leads
 * nowhere yet (an image's /data -> /srv/data, /srv/data not made) is not
 * a place to mount on: the path it leads to, still inside the root, is
 * written to `redirect` and 1 returned in *redirected, to try again. */
static int open_creating_once(int root, const char *path, int want_dir, mode_t mode, char redirect[PATH_BUF], int *redirected)
{
    *redirected = 0;
    int fd = open_in_root(root, path, O_PATH);
    if (fd != -ENOENT) return fd;
    size_t length = strlen(path);
    if (length >= PATH_BUF) return -ENAMETOOLONG;

    /* Most often only the last component is missing (a device node's or a
     * file's place in a fresh /dev or /etc): create it beside its parent. */
    const char *last_name;
    int parent_dir = open_parent(root, path, &last_name);
    if (parent_dir >= 0 && *last_name != 0) {
        int made = want_dir ? mkdirat(parent_dir, last_name, mode)
                            : openat(parent_dir, last_name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
        if (made >= 0 && !want_dir) close(made);
        if (made < 0 && errno != EEXIST) { int e = -errno; close(parent_dir); return e; }
        if (made < 0) {
            int link = dangling_link(parent_dir, last_name, path, (size_t)(last_name - path), length, redirect);
            if (link != 0) { close(parent_dir); *redirected = link > 0; return link > 0 ? -1 : link; }
        }
        fd = (int)openat(parent_dir, last_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        int e = fd < 0 ? -errno : 0;
        close(parent_dir);
        return fd < 0 ? e : fd;
    }
    if (parent_dir >= 0) close(parent_dir);
    else if (parent_dir != -ENOENT) return parent_dir;

    char prefix[PATH_BUF];
    size_t at = 0;
    int parent = open_in_root(root, "/", O_PATH | O_DIRECTORY);
    if (parent < 0) return parent;
    while (at < length) {
        while (path[at] == '/') at++;
        if (at >= length) break;
        size_t end = at;
        while (end < length && path[end] != '/') end++;
        memcpy(prefix, path, end);
        prefix[end] = 0;
        char name[256];
        size_t name_length = end - at;
        if (name_length >= sizeof name) { close(parent); return -ENAMETOOLONG; }
        memcpy(name, path + at, name_length);
        name[name_length] = 0;
        int last = end >= length || path[end + strspn(path + end, "/")] == 0;

        int next = open_in_root(root, prefix, O_PATH);
        if (next == -ENOENT) {
            int made;
            if (last && !want_dir) {
                made = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
                if (made >= 0) close(made);
            } else {
                made = mkdirat(parent, name, last ? mode : 0755);
            }
            if (made < 0 && errno != EEXIST) { int e = -errno; close(parent); return e; }
            if (made < 0) {
                int link = dangling_link(parent, name, path, at, end, redirect);
                if (link != 0) { close(parent); *redirected = link > 0; return link > 0 ? -1 : link; }
            }
            next = open_in_root(root, prefix, O_PATH);
        }
        close(parent);
        if (next < 0) return next;
        parent = next;
        at = end;
    }
    return parent;
}

/* Opens path inside root, creating what is missing: every missing parent as a
 * directory, the last component as a directory or an empty file. Each prefix
 * is resolved from the root again, so a symlink met on the way stays inside;
 * one that leads nowhere yet is followed, inside the root, and what it leads
 * to is created (as Docker's runtimes do), up to 40 links. */
static int open_creating(int root, const char *path, int want_dir, mode_t mode)
{
    char paths[2][PATH_BUF];
    size_t length = strlen(path);
    if (length >= PATH_BUF) return -ENAMETOOLONG;
    memcpy(paths[0], path, length + 1);
    for (int hop = 0; hop <= 40; hop++) {
        int redirected;
        int rc = open_creating_once(root, paths[hop & 1], want_dir, mode, paths[(hop + 1) & 1], &redirected);
        if (!redirected) return rc;
    }
    return -ELOOP;
}

static unsigned long locked_flags(int fd)
{
    struct statfs st;
    unsigned long flags = 0;
    if (syscall(SYS_fstatfs, fd, &st) != 0) return 0;
    if (st.f_flags & ST_NOSUID) flags |= MS_NOSUID;
    if (st.f_flags & ST_NODEV) flags |= MS_NODEV;
    if (st.f_flags & ST_NOEXEC) flags |= MS_NOEXEC;
    if (st.f_flags & ST_NOATIME) flags |= MS_NOATIME;
    if (st.f_flags & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (st.f_flags & ST_RELATIME) flags |= MS_RELATIME;
    return flags;
}

/* Makes the mount now on top of path read-only, keeping the flags the kernel
 * locked when the mount came from a more privileged namespace. */
static int make_readonly(int root, const char *path, int in_root, int recursive)
{
    int fd = in_root ? open_in_root(root, path, O_PATH) : open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return in_root ? fd : -errno;
    char target[64];
    fd_path(target, fd);
    if (recursive) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) {
            close(fd);
            return 0;
        }
    }
    int rc = mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(fd), NULL);
    int e = rc == 0 ? 0 : -errno;
    close(fd);
    return e;
}

static int step_mount_to(int root, const struct decoded_plan *plan, const struct burrow_plan_step *s,
                         const char *source, const char *target, const char *fstype, const char *data, int in_root);

static int step_mount(int root, const struct decoded_plan *plan, const struct burrow_plan_step *s)
{
    const char *source = plan_string(plan, s->arg[0]);
    const char *target = plan_string(plan, s->arg[1]);
    const char *fstype = plan_string(plan, s->arg[2]);
    const char *data = plan_string(plan, s->arg[3]);
    int in_root = (s->flags & BURROW_STEP_TARGET_IN_ROOT) != 0;

    if ((s->mount_flags & MS_BIND) && (s->flags & BURROW_STEP_OPTIONAL)) {
        struct stat st;
        if (stat(source, &st) != 0) return 0;
    }
    char source_path[64];
    int source_fd = -1;
    if (s->flags & BURROW_STEP_SOURCE_IN_ROOT) {
        source_fd = open_in_root(root, source, O_PATH);
        if (source_fd < 0) return source_fd;
        fd_path(source_path, source_fd);
        source = source_path;
    }
    int rc = step_mount_to(root, plan, s, source, target, fstype, data, in_root);
    if (source_fd >= 0) close(source_fd);
    return rc;
}

static int step_mount_to(int root, const struct decoded_plan *plan, const struct burrow_plan_step *s,
                         const char *source, const char *target, const char *fstype, const char *data, int in_root)
{
    (void)plan;
    int rc;
    if (in_root) {
        int fd;
        if (s->flags & (BURROW_STEP_CREATE_DIR | BURROW_STEP_CREATE_FILE))
            fd = open_creating(root, target, (s->flags & BURROW_STEP_CREATE_DIR) != 0, (s->flags & BURROW_STEP_CREATE_DIR) ? 0755 : 0644);
        else
            fd = open_in_root(root, target, O_PATH);
        if (fd < 0) return (fd == -ENOENT && (s->flags & BURROW_STEP_OPTIONAL)) ? 0 : fd;
        char path[64];
        fd_path(path, fd);
        rc = mount(source, path, fstype, s->mount_flags, data);
        int e = errno;
        close(fd);
        if (rc != 0) return -e;
    } else {
        rc = mount(source, target, fstype, s->mount_flags, data);
        if (rc != 0) return -errno;
    }
    if (s->flags & BURROW_STEP_READONLY)
        return make_readonly(root, target, in_root, (s->flags & BURROW_STEP_RECURSIVE) != 0);
    return 0;
}

/* The empty read-only tmpfs over the first masked directory: every other
 * masked directory gets a bind of it, not a filesystem of its own, which
 * the kernel would have to make now and tear down when the container ends. */
static int empty_tmpfs = -1;

static int step_mask(int root, const char *path)
{
    int fd = open_in_root(root, path, O_PATH | O_NOFOLLOW);
    if (fd == -ENOENT) return 0;
    if (fd < 0) return fd;
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = -errno; close(fd); return e; }
    char target[64], source[64];
    fd_path(target, fd);
    int rc;
    if (!S_ISDIR(st.st_mode)) {
        rc = mount("/dev/null", target, NULL, MS_BIND, NULL);
    } else if (empty_tmpfs >= 0) {
        fd_path(source, empty_tmpfs);
        rc = mount(source, target, NULL, MS_BIND, NULL);
    } else {
        rc = mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
        if (rc == 0) {
            int mounted = open_in_root(root, path, O_PATH | O_NOFOLLOW);
            if (mounted >= 0) empty_tmpfs = mounted;
        }
    }
    int e = rc == 0 ? 0 : -errno;
    close(fd);
    return e;
}

static int step_readonly(int root, const char *path)
{
    int fd = open_in_root(root, path, O_PATH);
    if (fd == -ENOENT) return 0;
    if (fd < 0) return fd;
    char target[64];
    fd_path(target, fd);
    int rc = mount(target, target, NULL, MS_BIND | MS_REC, NULL);
    int e = rc == 0 ? 0 : -errno;
    close(fd);
    return e ? e : make_readonly(root, path, 1, 1);
}

/* A new procfs or sysfs; where the kernel refuses one (the host's copy is
 * partly covered, or the network namespace is the host's), the host's own is
 * bound instead, recursively, so nothing it hides is uncovered. */
static int step_pseudofs(const struct decoded_plan *plan, int root, const struct burrow_plan_step *s, uint32_t index)
{
    const char *fstype = plan_string(plan, s->arg[0]);
    const char *path = plan_string(plan, s->arg[1]);
    const char *host = plan_string(plan, s->arg[2]);
    int fd = open_creating(root, path, 1, 0555);
    if (fd < 0) return fd;
    char target[64];
    fd_path(target, fd);
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (s->mount_flags & MS_RDONLY);
    int rc = mount(fstype, target, fstype, flags, NULL);
    if (rc != 0 && host != NULL && (errno == EPERM || errno == EACCES)) {
        child_report(plan, BURROW_REPORT_WARNING, index, errno);
        rc = mount(host, target, NULL, MS_BIND | MS_REC, NULL);
        if (rc == 0 && (s->mount_flags & MS_RDONLY)) {
            close(fd);
            return make_readonly(root, path, 1, 1);
        }
    }
    int e = rc == 0 ? 0 : -errno;
    close(fd);
    return e;
}

static int step_symlink(int root, const char *text, const char *path)
{
    const char *slash = strrchr(path, '/');
    char parent_path[PATH_BUF];
    const char *name = path;
    int parent;
    if (slash != NULL) {
        size_t n = (size_t)(slash - path);
        if (n >= PATH_BUF) return -ENAMETOOLONG;
        memcpy(parent_path, path, n);
        parent_path[n] = 0;
        name = slash + 1;
        parent = open_creating(root, parent_path, 1, 0755);
    } else {
        parent = open_in_root(root, "/", O_PATH | O_DIRECTORY);
    }
    if (parent < 0) return parent;
    int rc = symlinkat(text, parent, name);
    int e = (rc == 0 || errno == EEXIST) ? 0 : -errno;
    close(parent);
    return e;
}

/* Files the container gets that no disk has to hold (/etc/hosts and the
 * like): written to a tmpfs of the container's own. */
static int step_write_file(int root, const char *path, const char *contents, mode_t mode)
{
    const char *name;
    int parent = open_parent(root, path, &name);
    if (parent < 0) return parent;
    int fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = fd < 0 ? -errno : 0;
    close(parent);
    if (fd < 0) return e;
    size_t length = contents ? strlen(contents) : 0, done = 0;
    while (done < length) {
        ssize_t n = write(fd, contents + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            e = -errno;
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    return e;
}

static int step_unlink(int root, const char *path)
{
    const char *name;
    int parent = open_parent(root, path, &name);
    if (parent < 0) return parent;
    int rc = unlinkat(parent, name, 0) == 0 ? 0 : -errno;
    close(parent);
    return rc;
}

static int step_pivot(int root)
{
    if (fchdir(root) != 0) return -errno;
    if (syscall(SYS_pivot_root, ".", ".") != 0) return -errno;
    if (umount2(".", MNT_DETACH) != 0) return -errno;
    if (chdir("/") != 0) return -errno;
    return 0;
}

static int remount_root_readonly(void)
{
    int fd = open("/", O_PATH | O_CLOEXEC);
    if (fd < 0) return -errno;
    unsigned long flags = locked_flags(fd);
    close(fd);
    return mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL) == 0 ? 0 : -errno;
}

int child_loopback_up(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, "lo", 3);
    int rc = ioctl(fd, SIOCGIFFLAGS, &request);
    if (rc == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int e = rc == 0 ? 0 : -errno;
    close(fd);
    return e;
}

void child_run_steps(const struct decoded_plan *plan)
{
    int root = -1;
    const struct burrow_plan_header *h = plan->header;
    for (uint32_t i = 0; i < h->step_count; i++) {
        const struct burrow_plan_step *s = &plan->steps[i];
        const char *a0 = plan_string(plan, s->arg[0]);
        int rc = 0;
        switch (s->op) {
        case BURROW_OP_MAKE_PRIVATE:
            rc = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 ? 0 : -errno;
            break;
        case BURROW_OP_CHDIR:
            rc = chdir(a0) == 0 ? 0 : -errno;
            break;
        case BURROW_OP_MOUNT:
            rc = step_mount(root, plan, s);
            break;
        case BURROW_OP_SET_ROOT:
            if (root >= 0) close(root);
            root = open(a0, O_PATH | O_DIRECTORY | O_CLOEXEC);
            rc = root >= 0 ? 0 : -errno;
            break;
        case BURROW_OP_MKDIR: {
            int fd = open_creating(root, a0, 1, (mode_t)s->arg[1]);
            if (fd >= 0) close(fd);
            rc = fd >= 0 ? 0 : fd;
            break;
        }
        case BURROW_OP_SYMLINK:
            rc = step_symlink(root, a0, plan_string(plan, s->arg[1]));
            break;
        case BURROW_OP_MASK:
            rc = step_mask(root, a0);
            break;
        case BURROW_OP_READONLY:
            rc = step_readonly(root, a0);
            break;
        case BURROW_OP_PSEUDOFS:
            rc = step_pseudofs(plan, root, s, i);
            break;
        case BURROW_OP_PIVOT_ROOT:
            rc = step_pivot(root);
            break;
        case BURROW_OP_HOSTNAME:
            rc = sethostname(a0, strlen(a0)) == 0 ? 0 : -errno;
            break;
        case BURROW_OP_REMOUNT_ROOT_RO:
            rc = remount_root_readonly();
            break;
        case BURROW_OP_WRITE_FILE:
            rc = step_write_file(root, a0, plan_string(plan, s->arg[1]), (mode_t)s->arg[2]);
            break;
        case BURROW_OP_UNLINK:
            rc = step_unlink(root, a0);
            break;
        case BURROW_OP_SETNS:
            rc = setns((int)s->arg[0], (int)s->arg[1]) == 0 ? 0 : -errno;
            break;
        case BURROW_OP_REMOUNT_RO:
            rc = make_readonly(root, a0, 1, 0);
            break;
        }
        if (rc < 0) child_fail(plan, i, -rc);
    }
    if (root >= 0) close(root);
}

