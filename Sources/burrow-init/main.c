/* burrow-init: the small init `burrow run --init` puts at PID 1. It starts
 * the container's program, passes on the signals it gets, reaps every
 * orphan the container leaves, and exits as the program did. C, and static,
 * because it runs inside the container's root, which holds no library of
 * ours. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Signals that say the process itself went wrong stay with it. */
static int is_synchronous(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT || sig == SIGTRAP || sig == SIGSYS;
}

static void blocked_set(sigset_t *set)
{
    sigfillset(set);
    for (int sig = 1; sig < NSIG; sig++) {
        if (is_synchronous(sig)) sigdelset(set, sig);
    }
}

static pid_t start_program(char **argv, const sigset_t *original)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* The program gets a process group of its own and, on a terminal, the
     * foreground: Ctrl-C reaches it, not only this init. */
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) {
        signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(STDIN_FILENO, getpgrp());
        signal(SIGTTOU, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, original, NULL);
    execvp(argv[0], argv);
    int error = errno;
    dprintf(STDERR_FILENO, "burrow-init: cannot run %s: %s\n", argv[0], strerror(error));
    _exit(error == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0) first++;
    if (first >= argc) {
        dprintf(STDERR_FILENO, "usage: burrow-init [--] PROGRAM [ARGUMENT...]\n");
        return 125;
    }
    /* Outside PID 1 (a test, a nested run) orphans still come here. */
    if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    sigset_t blocked, original;
    blocked_set(&blocked);
    sigprocmask(SIG_SETMASK, &blocked, &original);

    pid_t program = start_program(argv + first, &original);
    if (program < 0) {
        dprintf(STDERR_FILENO, "burrow-init: fork: %s\n", strerror(errno));
        return 125;
    }
    for (;;) {
        /* A second at most between sweeps, should a SIGCHLD be merged away. */
        struct timespec tick = { 1, 0 };
        siginfo_t info;
        int sig = sigtimedwait(&blocked, &info, &tick);
        if (sig > 0 && sig != SIGCHLD) kill(program, sig);
        for (;;) {
            int status = 0;
            pid_t reaped = waitpid(-1, &status, WNOHANG);
            if (reaped <= 0) break;
            if (reaped != program) continue;
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        }
    }
}
