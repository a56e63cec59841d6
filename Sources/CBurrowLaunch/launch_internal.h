/* Shared between the parent side and the child executor.
 * C because the child of clone() must not touch the Swift runtime or malloc. */
#ifndef BURROW_LAUNCH_INTERNAL_H
#define BURROW_LAUNCH_INTERNAL_H

#include "burrow_launch.h"

/* The plan after validation, with pointers prepared by the parent before
 * clone(): the child only reads it. */
struct decoded_plan {
    const struct burrow_plan_header *header;
    const struct burrow_plan_step *steps;
    const char *strings;
    const uint32_t *groups;
    char **argv;                /* NULL-terminated, malloc'd by the parent */
    char **envp;
    const void *seccomp;
    const struct burrow_plan_rlimit *rlimits;
    int last_cap;               /* /proc/sys/kernel/cap_last_cap */
    int sync_read;
    int report_write;
    int parent_ends[2];         /* the parent's pipe ends, closed first thing in the child */
};

int plan_decode(const uint8_t *plan, size_t size, struct decoded_plan *out);
void plan_free(struct decoded_plan *plan);
const char *plan_string(const struct decoded_plan *plan, uint32_t offset);

/* Never returns. */
void child_main(const struct decoded_plan *plan) __attribute__((noreturn));

/* Reports a step's failure or warning on the report pipe. */
void child_report(const struct decoded_plan *plan, uint32_t kind, uint32_t step, int error);
/* Reports a fatal failure and exits 125. */
void child_fail(const struct decoded_plan *plan, uint32_t step, int error) __attribute__((noreturn));
/* Walks the plan's steps (child_steps.c). */
void child_run_steps(const struct decoded_plan *plan);

#endif
