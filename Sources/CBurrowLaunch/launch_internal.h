/* Shared between the parent side and the child executor.
 * C because the child of clone() must not touch the Swift runtime or malloc. */
#ifndef BURROW_LAUNCH_INTERNAL_H
#define BURROW_LAUNCH_INTERNAL_H

#include "burrow_launch.h"

/* The plan as the child reads it, bound to the bytes it received: the
 * parent validated them before sending (plan_check). */
struct decoded_plan {
    const struct burrow_plan_header *header;
    const struct burrow_plan_step *steps;
    const char *strings;
    const uint32_t *groups;
    char **argv;                /* NULL-terminated, in the child's plan area */
    char **envp;
    const void *seccomp;
    const struct burrow_plan_rlimit *rlimits;
    int last_cap;               /* /proc/sys/kernel/cap_last_cap */
    int report_write;
};

/* What the child of clone() starts with, before its plan arrives: set up by
 * the parent on its stack, which the child gets a copy of. */
struct child_start {
    uint64_t clone_flags;       /* the namespaces clone() made, and CLONE_NEWNET for the child to make */
    uint8_t *area;              /* mapped before clone(): the plan and its pointer arrays land here */
    size_t area_size;
    int last_cap;
    int sync_read;              /* the plan arrives here: a uint64_t size, then the bytes */
    int report_write;
    int parent_ends[2];         /* the parent's pipe ends, closed first thing in the child */
    int has_tap;
    struct burrow_tap tap;      /* with has_tap: the device to make (child_tap.c) */
};

/* The plan area's size: room for the largest argv and environment exec takes. */
#define BURROW_PLAN_AREA_SIZE ((size_t)8 << 20)

/* 0 when the plan's every offset and string is sound, -EINVAL otherwise. */
int plan_check(const uint8_t *plan, size_t size);
/* Bytes the child needs after the plan for its argv and envp arrays. */
size_t plan_pointer_space(const uint8_t *plan);
/* Points `out` into a checked plan; `pointers` holds plan_pointer_space bytes. */
void plan_bind(const uint8_t *plan, char **pointers, struct decoded_plan *out);
const char *plan_string(const struct decoded_plan *plan, uint32_t offset);
int plan_read_last_cap(void);

/* Never returns. */
void child_main(const struct child_start *start) __attribute__((noreturn));

/* Reports a step's failure or warning on the report pipe. */
void child_report(const struct decoded_plan *plan, uint32_t kind, uint32_t step, int error);
/* Reports a fatal failure and exits 125. */
void child_fail(const struct decoded_plan *plan, uint32_t step, int error) __attribute__((noreturn));
/* Brings up the loopback interface of a new network namespace. 0 or -errno. */
int child_loopback_up(void);
/* Makes the TAP device of start->tap in the new network namespace and sends
 * it with the namespaces' descriptors; or, when `error` (an errno from
 * making the namespace) or the device fails, sends that errno. Returns the
 * errno sent, 0 when the device went. */
int child_tap_up(const struct child_start *start, int error);
/* Makes the container's terminal (child_console.c). 0 or -errno. */
int child_console(const struct decoded_plan *plan);
/* Walks the plan's steps (child_steps.c). */
void child_run_steps(const struct decoded_plan *plan);

#endif
