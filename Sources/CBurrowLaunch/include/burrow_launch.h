/* The launch plan's binary layout and the parent-side entry points.
 * C because the child of clone() must not touch the Swift runtime or malloc. */
#ifndef BURROW_LAUNCH_H
#define BURROW_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#define BURROW_PLAN_MAGIC 0x57525242u /* "BRRW" little-endian */
#define BURROW_PLAN_VERSION 2u

/* A plan is one flat little-endian buffer: a header, a table of steps and a
 * string table. Every string is an offset into the string table; offset 0 is
 * the empty string and means "none". Nothing in it is a pointer. */
struct burrow_plan_header {
    uint32_t magic;
    uint32_t version;
    uint32_t total_size;
    uint32_t flags;             /* BURROW_PLAN_* */
    uint64_t clone_flags;       /* CLONE_NEW* */
    uint32_t step_count;
    uint32_t steps_offset;      /* struct burrow_plan_step[step_count] */
    uint32_t strings_offset;
    uint32_t strings_size;
    uint32_t uid;
    uint32_t gid;
    uint32_t groups_count;
    uint32_t groups_offset;     /* uint32_t[groups_count] */
    uint32_t argv_count;
    uint32_t argv_offset;       /* uint32_t string offsets[argv_count] */
    uint32_t envp_count;
    uint32_t envp_offset;       /* uint32_t string offsets[envp_count] */
    uint32_t cwd;               /* string: directory to enter after pivot_root */
    uint32_t search_path;       /* string: PATH used to find argv[0] */
    uint64_t cap_bounding;
    uint64_t cap_effective;
    uint64_t cap_permitted;
    uint64_t cap_inheritable;
    uint64_t cap_ambient;
    uint32_t seccomp_offset;    /* struct sock_filter[seccomp_count], or 0 */
    uint32_t seccomp_count;
    uint32_t rlimit_count;
    uint32_t rlimit_offset;     /* struct burrow_plan_rlimit[rlimit_count] */
    int32_t stdio_fds[3];       /* inherited descriptors the child makes its 0, 1 and 2; -1 keeps its own */
    int32_t console_fd;         /* a socket the pty's master is sent over (SCM_RIGHTS), or -1 for no terminal */
    uint16_t console_rows;      /* the terminal's size, set before the program starts */
    uint16_t console_cols;
    uint32_t reserved;
};

struct burrow_plan_step {
    uint32_t op;                /* BURROW_OP_* */
    uint32_t flags;             /* BURROW_STEP_* */
    uint32_t arg[4];            /* strings or small numbers, per op */
    uint64_t mount_flags;       /* MS_* for mounts */
};

struct burrow_plan_rlimit {
    uint32_t resource;
    uint32_t pad;
    uint64_t soft;
    uint64_t hard;
};

/* Header flags. */
#define BURROW_PLAN_EXEC          0x0001u /* exec argv; otherwise exit 0 after the steps */
#define BURROW_PLAN_STDIN_NULL    0x0002u /* stdin from /dev/null (no -i) */
#define BURROW_PLAN_NEW_SESSION   0x0004u /* setsid(): terminal signals reach the CLI, which forwards them */
#define BURROW_PLAN_NO_NEW_PRIVS  0x0008u
#define BURROW_PLAN_SET_GROUPS    0x0010u /* setgroups(groups); not possible when setgroups is denied */
#define BURROW_PLAN_SET_IDS       0x0020u /* setresgid(gid), setresuid(uid) */
#define BURROW_PLAN_SET_CAPS      0x0040u /* apply the five capability sets */
#define BURROW_PLAN_PDEATHSIG     0x0080u /* SIGKILL when the launching thread dies */
#define BURROW_PLAN_CLOSE_FDS     0x0100u /* every fd above 2 is closed at exec */
#define BURROW_PLAN_DETACH_STDIO  0x0200u /* stdin, stdout and stderr all from /dev/null */

/* Operations, executed in order by the child. "in root" paths are resolved
 * inside the root set by BURROW_OP_SET_ROOT (openat2 RESOLVE_IN_ROOT), so a
 * symlink in the image can never redirect a mount onto the host. */
enum burrow_op {
    BURROW_OP_MAKE_PRIVATE = 1, /* mount --make-rprivate / */
    BURROW_OP_CHDIR = 2,        /* arg0: host directory (relative mount options resolve from it) */
    BURROW_OP_MOUNT = 3,        /* arg0 source, arg1 target, arg2 fstype, arg3 data */
    BURROW_OP_SET_ROOT = 4,     /* arg0: host path of the container's root, already a mount */
    BURROW_OP_MKDIR = 5,        /* arg0: path in root, arg1: mode */
    BURROW_OP_SYMLINK = 6,      /* arg0: link text, arg1: path in root; kept if present */
    BURROW_OP_MASK = 7,         /* arg0: path in root; /dev/null over a file, empty read-only tmpfs over a directory */
    BURROW_OP_READONLY = 8,     /* arg0: path in root; bind onto itself, read-only */
    BURROW_OP_PSEUDOFS = 9,     /* arg0 fstype, arg1 path in root, arg2 host path bound instead when the kernel refuses */
    BURROW_OP_PIVOT_ROOT = 10,
    BURROW_OP_HOSTNAME = 11,    /* arg0 */
    BURROW_OP_REMOUNT_ROOT_RO = 12,
    BURROW_OP_RETIRED_13 = 13,  /* was "bring up lo": every new network namespace gets it now */
    BURROW_OP_WRITE_FILE = 14,  /* arg0: path in root, arg1: contents, arg2: mode; a new file */
    BURROW_OP_UNLINK = 15,      /* arg0: path in root */
    BURROW_OP_SETNS = 16,       /* arg0: an inherited namespace descriptor, arg1: its CLONE_NEW* type (numbers) */
    BURROW_OP_REMOUNT_RO = 17,  /* arg0: path in root; the mount on top of it made read-only in place (no new
                                   bind: the /etc files are mounts of files already unlinked, which cannot be a
                                   mount point again) */
};

/* Step flags. */
#define BURROW_STEP_TARGET_IN_ROOT      0x0001u
#define BURROW_STEP_CREATE_DIR          0x0002u /* create the target (and parents) as directories */
#define BURROW_STEP_CREATE_FILE         0x0004u /* create the target as an empty file */
#define BURROW_STEP_OPTIONAL            0x0008u /* a missing source or target skips the step */
#define BURROW_STEP_READONLY            0x0010u /* after a bind mount, make it read-only */
#define BURROW_STEP_RECURSIVE           0x0020u /* read-only applies to every mount below too */
#define BURROW_STEP_SOURCE_IN_ROOT      0x0040u /* a bind's source is a path in root too */

/* Steps after the table: reported in the same field as a step index. */
#define BURROW_PHASE_BASE        0x10000u
#define BURROW_PHASE_WAIT        (BURROW_PHASE_BASE + 1)
#define BURROW_PHASE_STDIN       (BURROW_PHASE_BASE + 2)
#define BURROW_PHASE_SESSION     (BURROW_PHASE_BASE + 3)
#define BURROW_PHASE_BOUNDING    (BURROW_PHASE_BASE + 4)
#define BURROW_PHASE_SETGROUPS   (BURROW_PHASE_BASE + 5)
#define BURROW_PHASE_SETGID      (BURROW_PHASE_BASE + 6)
#define BURROW_PHASE_SETUID      (BURROW_PHASE_BASE + 7)
#define BURROW_PHASE_CAPS        (BURROW_PHASE_BASE + 8)
#define BURROW_PHASE_RLIMIT      (BURROW_PHASE_BASE + 9)
#define BURROW_PHASE_NO_NEW_PRIVS (BURROW_PHASE_BASE + 10)
#define BURROW_PHASE_CHDIR       (BURROW_PHASE_BASE + 11)
#define BURROW_PHASE_CLOSE_FDS   (BURROW_PHASE_BASE + 12)
#define BURROW_PHASE_SECCOMP     (BURROW_PHASE_BASE + 13)
#define BURROW_PHASE_EXEC        (BURROW_PHASE_BASE + 14)
#define BURROW_PHASE_PDEATHSIG   (BURROW_PHASE_BASE + 15)
#define BURROW_PHASE_NETWORK     (BURROW_PHASE_BASE + 16)
#define BURROW_PHASE_STDIO       (BURROW_PHASE_BASE + 17)
#define BURROW_PHASE_CONSOLE     (BURROW_PHASE_BASE + 18)

/* What the child writes on the report pipe. EOF without a fatal record
 * means the exec happened (or, without BURROW_PLAN_EXEC, the steps ran). */
struct burrow_report {
    uint32_t kind;              /* BURROW_REPORT_* */
    uint32_t step;              /* step index or BURROW_PHASE_* */
    int32_t error;              /* errno */
    uint32_t pad;
};
#define BURROW_REPORT_FATAL   1u
#define BURROW_REPORT_WARNING 2u

struct burrow_child {
    int pid;
    int pidfd;                  /* -1 when the kernel has no clone3 */
    int sync_fd;                /* the plan goes here, once the id maps are in place */
    int report_fd;              /* read struct burrow_report until EOF */
    uint64_t clone_flags;       /* CLONE_NEW* the child was made with: its plan must ask for the same */
    int cgroup_error;           /* errno when the child could not be put in its cgroup (it is gone then) */
};

/* A userspace network's end in the container: a TAP device the child makes
 * in its new network namespace, before its plan arrives, with this address
 * and a default route through the gateway. The child sends the device, its
 * network namespace and its user namespace over `socket` (SCM_RIGHTS), or
 * a 4-byte errno and none when it could not. Addresses in network order. */
struct burrow_tap {
    int socket;
    uint32_t address;
    uint32_t netmask;
    uint32_t gateway;
    uint32_t mtu;
    char name[16];
};

/* Clones a child into the namespaces in clone_flags (CLONE_NEWNET it makes
 * itself, with its loopback up) and returns at once: the caller decides the
 * plan while the kernel makes the namespaces, writes the id maps, and sends
 * it with burrow_launch_send. The signals the CLI forwards stay blocked in
 * the caller until burrow_wait_forwarding returns. With cgroup_fd >= 0 (an
 * open cgroup v2 directory) the child starts in that cgroup: clone3 with
 * CLONE_INTO_CGROUP, or, where the kernel refuses that, its pid written to
 * the cgroup's cgroup.procs before it gets its plan; -1 leaves it in the
 * caller's. A non-NULL `tap` (with CLONE_NEWNET) gives the namespace a
 * TAP device as described above. Returns 0, or -errno (with child->cgroup_error set when it was
 * the cgroup that refused the child). */
int burrow_launch_clone(uint64_t clone_flags, int cgroup_fd, const struct burrow_tap *tap, struct burrow_child *child);

/* Receives what a child with a TAP device sent: its descriptors for the
 * device, its network namespace and its user namespace, in that order.
 * Returns 0, or -errno (the child's own when it could not make the device). */
int burrow_tap_receive(int socket_fd, int fds[3]);

/* Validates the plan and sends it to the child, which then runs it. Returns
 * 0, -EINVAL for a malformed plan or one for other namespaces, -E2BIG for
 * one too large, or -errno (-EPIPE: the child is gone). */
int burrow_launch_send(struct burrow_child *child, const uint8_t *plan, size_t plan_size);

/* Waits for the child, forwarding the signals the caller receives, and
 * restores the signal mask. Returns 0 and the wait status, or -errno. */
int burrow_wait_forwarding(int pid, int pidfd, int *wait_status);

/* Blocks the forwarded signals now (burrow_launch_start does this itself). */
void burrow_block_forwarded_signals(void);

/* Starts a process, in a session of its own, that deletes the directory
 * tree at `path` once the returned descriptor is closed (or its caller
 * dies), or exits without deleting if a byte is written to it first. When
 * `path` does not exist (the caller died before moving its directory
 * there), it deletes `abandoned` and the symlink `abandoned_link` instead. Where files refuse (they belong to
 * subordinate ids), it execs `fallback` with `fallback_argv`. Returns the
 * descriptor, or -errno. */
int burrow_cleaner_start(const char *path, const char *abandoned, const char *abandoned_link,
                         const char *fallback, char *const fallback_argv[]);

#endif
