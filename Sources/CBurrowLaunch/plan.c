/* The flat launch plan: validated in the parent, so the child can trust every
 * offset, and bound in the child. C because the child cannot run Swift. */
#include "launch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int range_ok(size_t size, uint32_t offset, uint64_t length)
{
    return (uint64_t)offset + length <= size;
}

static int string_ok(const struct burrow_plan_header *h, uint32_t offset)
{
    if (offset >= h->strings_size) return 0;
    const char *s = (const char *)h + h->strings_offset;
    return memchr(s + offset, 0, h->strings_size - offset) != NULL;
}

const char *plan_string(const struct decoded_plan *plan, uint32_t offset)
{
    return offset == 0 ? NULL : plan->strings + offset;
}

int plan_read_last_cap(void)
{
    char buf[16] = {0};
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 40;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 40;
    return atoi(buf);
}

int plan_check(const uint8_t *plan, size_t size)
{
    if (size < sizeof(struct burrow_plan_header) || ((uintptr_t)plan & 7) != 0) return -EINVAL;
    const struct burrow_plan_header *h = (const struct burrow_plan_header *)plan;
    if (h->magic != BURROW_PLAN_MAGIC || h->version != BURROW_PLAN_VERSION || h->total_size != size) return -EINVAL;
    if (!range_ok(size, h->steps_offset, (uint64_t)h->step_count * sizeof(struct burrow_plan_step))) return -EINVAL;
    if (h->strings_size == 0 || !range_ok(size, h->strings_offset, h->strings_size)) return -EINVAL;
    if (plan[h->strings_offset] != 0 || plan[h->strings_offset + h->strings_size - 1] != 0) return -EINVAL;
    if (!range_ok(size, h->groups_offset, (uint64_t)h->groups_count * 4)) return -EINVAL;
    if (!range_ok(size, h->argv_offset, (uint64_t)h->argv_count * 4)) return -EINVAL;
    if (!range_ok(size, h->envp_offset, (uint64_t)h->envp_count * 4)) return -EINVAL;
    if (!range_ok(size, h->seccomp_offset, (uint64_t)h->seccomp_count * 8)) return -EINVAL;
    if (!range_ok(size, h->rlimit_offset, (uint64_t)h->rlimit_count * sizeof(struct burrow_plan_rlimit))) return -EINVAL;
    if ((h->flags & BURROW_PLAN_EXEC) && h->argv_count == 0) return -EINVAL;
    if (h->cwd && !string_ok(h, h->cwd)) return -EINVAL;
    if (h->search_path && !string_ok(h, h->search_path)) return -EINVAL;
    const uint32_t *argv = (const uint32_t *)(plan + h->argv_offset);
    for (uint32_t i = 0; i < h->argv_count; i++) if (!string_ok(h, argv[i])) return -EINVAL;
    const uint32_t *envp = (const uint32_t *)(plan + h->envp_offset);
    for (uint32_t i = 0; i < h->envp_count; i++) if (!string_ok(h, envp[i])) return -EINVAL;

    const struct burrow_plan_step *steps = (const struct burrow_plan_step *)(plan + h->steps_offset);
    for (uint32_t i = 0; i < h->step_count; i++) {
        for (int a = 0; a < 4; a++) {
            uint32_t arg = steps[i].arg[a];
            int is_number = (steps[i].op == BURROW_OP_MKDIR && a == 1) || (steps[i].op == BURROW_OP_WRITE_FILE && a == 2)
                || (steps[i].op == BURROW_OP_SETNS && a < 2);
            if (!is_number && arg != 0 && !string_ok(h, arg)) return -EINVAL;
        }
        if (steps[i].op < BURROW_OP_MAKE_PRIVATE || steps[i].op > BURROW_OP_REMOUNT_RO || steps[i].op == BURROW_OP_RETIRED_13)
            return -EINVAL;
    }
    return 0;
}

size_t plan_pointer_space(const uint8_t *plan)
{
    const struct burrow_plan_header *h = (const struct burrow_plan_header *)plan;
    return ((size_t)h->argv_count + 1 + (size_t)h->envp_count + 1) * sizeof(char *);
}

static char **bind_strings(const struct burrow_plan_header *h, uint32_t offset, uint32_t count, char **array)
{
    const uint32_t *offsets = (const uint32_t *)((const uint8_t *)h + offset);
    for (uint32_t i = 0; i < count; i++) array[i] = (char *)h + h->strings_offset + offsets[i];
    array[count] = NULL;
    return array;
}

void plan_bind(const uint8_t *plan, char **pointers, struct decoded_plan *out)
{
    const struct burrow_plan_header *h = (const struct burrow_plan_header *)plan;
    out->header = h;
    out->steps = (const struct burrow_plan_step *)(plan + h->steps_offset);
    out->strings = (const char *)plan + h->strings_offset;
    out->groups = (const uint32_t *)(plan + h->groups_offset);
    out->seccomp = h->seccomp_count ? plan + h->seccomp_offset : NULL;
    out->rlimits = (const struct burrow_plan_rlimit *)(plan + h->rlimit_offset);
    out->argv = bind_strings(h, h->argv_offset, h->argv_count, pointers);
    out->envp = bind_strings(h, h->envp_offset, h->envp_count, pointers + h->argv_count + 1);
}
