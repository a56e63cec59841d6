/* A monitor lives as long as its container, but needs little of burrow's
 * code once the container runs: the pages of code that start-up touched
 * are let go (they stay in the page cache, shared, and come back on use).
 * C because it walks /proc/self/maps and calls madvise on raw ranges. */
#define _GNU_SOURCE
#include "burrow_monitor.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_FILE    (1ULL << 61)

/* The runs of present pages that are still mapped from the file
 * (/proc/self/pagemap's file bit), let go of. */
static int release_clean_pages(unsigned long start, unsigned long end)
{
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    int released = 0;
    unsigned long run = 0;
    for (unsigned long at = start; at <= end; at += (unsigned long)page) {
        uint64_t entry = 0;
        int clean = 0;
        if (at < end && pread(fd, &entry, sizeof entry, (off_t)(at / (unsigned long)page * sizeof entry)) == (ssize_t)sizeof entry)
            clean = (entry & PAGEMAP_PRESENT) && (entry & PAGEMAP_FILE);
        if (clean && run == 0) run = at;
        if (!clean && run != 0) {
            if (madvise((void *)run, at - run, MADV_DONTNEED) == 0) released++;
            run = 0;
        }
    }
    close(fd);
    return released;
}

int burrow_release_code_pages(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) return -1;
    char line[4096 + 128];
    int released = 0;
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long start = 0, end = 0;
        char permissions[8] = {0};
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, permissions, &path_at) < 3) continue;
        char *path = line + path_at;
        path[strcspn(path, "\n")] = 0;
        if (strcmp(path, self) != 0) continue;
        /* Code is never written: all of it can go. */
        if (strcmp(permissions, "r-xp") == 0) {
            if (madvise((void *)start, end - start, MADV_DONTNEED) == 0) released++;
            continue;
        }
        /* Data: only pages still the file's own; one written is this
         * process's alone and must stay. */
        released += release_clean_pages(start, end);
    }
    fclose(maps);
    return released;
}
