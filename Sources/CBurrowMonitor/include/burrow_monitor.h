/* The container's streams while it runs: the monitor's loop (log, attached
 * clients, stdin, the terminal), the attach client's loop, and the formats
 * they share. C because the loops are poll(2) over raw descriptors and the
 * monitor must stay small. */
#ifndef BURROW_MONITOR_H
#define BURROW_MONITOR_H

#include <stddef.h>
#include <stdint.h>

/* An attach connection carries frames both ways: this header, then
 * `length` bytes. */
struct burrow_frame {
    uint32_t type;
    uint32_t length;
};
#define BURROW_FRAME_MAX (64u * 1024u)

/* client → monitor */
#define BURROW_FRAME_HELLO     1u  /* uint32 BURROW_ATTACH_* flags */
#define BURROW_FRAME_STDIN     2u  /* bytes for the container's standard input */
#define BURROW_FRAME_STDIN_EOF 3u  /* the client's input ended */
#define BURROW_FRAME_RESIZE    4u  /* uint16 rows, uint16 columns */
#define BURROW_FRAME_SIGNAL    5u  /* uint32 signal for the container's PID 1 */
#define BURROW_FRAME_DETACH    6u  /* the client leaves; the container's input stays open */
/* monitor → client */
#define BURROW_FRAME_STDOUT   16u
#define BURROW_FRAME_STDERR   17u
#define BURROW_FRAME_EXIT     18u  /* int32 exit code: the container ended */
#define BURROW_FRAME_STARTED  19u  /* int32 pid of the container's PID 1 */
#define BURROW_FRAME_FAILED   20u  /* int32 exit code, then a one-line message */

#define BURROW_ATTACH_STDIN      1u
#define BURROW_ATTACH_STDOUT     2u
#define BURROW_ATTACH_STDERR     4u
/* The container's input closes when this client's input ends, or when it
 * goes without detaching (`run -i` in the foreground, Docker's StdinOnce). */
#define BURROW_ATTACH_STDIN_ONCE 8u

/* The log: records of this header and `length` bytes, one per line of
 * output (a line's start and its newline in one record when they came
 * together; `partial` when the record ends without a newline). */
struct burrow_log_record {
    uint64_t time_ns;           /* CLOCK_REALTIME */
    uint32_t length;
    uint8_t stream;             /* 1 stdout, 2 stderr */
    uint8_t partial;
    uint16_t reserved;
};

struct burrow_monitor_config {
    int pid;                    /* the container's PID 1 */
    int pidfd;
    int stdout_fd;              /* read ends of the container's pipes, or -1 */
    int stderr_fd;
    int stdin_fd;               /* write end of its input pipe, or -1 */
    int pty_fd;                 /* the terminal's master, or -1 (then it is output and input) */
    int log_fd;                 /* appended to */
    int listen_fd;              /* the attach socket, or -1 */
    int client_fd;              /* the first client, connected before the container started, or -1 */
    uint32_t client_flags;
    uint32_t drain_ms;          /* how long output may still come once PID 1 is gone */
    /* Called with the wait status once PID 1 is gone and its output drained,
     * before any client hears of the end: what it records is what they see. */
    void (*ended)(int wait_status, void *context);
    void *ended_context;
};

/* Runs until the container's PID 1 has exited and its output is drained.
 * Returns 0 and the wait status, or -errno. */
int burrow_monitor_run(const struct burrow_monitor_config *config, int *wait_status);

struct burrow_attach_config {
    int socket_fd;              /* framed connection to a monitor, or -1 */
    int pty_fd;                 /* or a terminal master to relay raw (exec -t), or -1 */
    int pidfd;                  /* with pty_fd: the process whose end ends the relay */
    int stdin_fd;               /* -1: the input is not attached */
    int stdout_fd;
    int stderr_fd;
    int tty;                    /* put the caller's terminal in raw mode and follow its size */
    const uint8_t *detach_keys; /* NULL or empty: no detaching */
    size_t detach_keys_length;
    int proxy_signals;          /* pass INT, TERM, HUP, QUIT, USR1, USR2 to the container */
};

#define BURROW_ATTACH_DETACHED (-100000)
#define BURROW_ATTACH_LOST     (-100001) /* the monitor went without saying how the container ended */

/* Relays until the container ends (its exit code), the user detaches
 * (BURROW_ATTACH_DETACHED), or the monitor goes (BURROW_ATTACH_LOST);
 * -errno on failure. The caller's terminal is restored on every path. */
int burrow_attach_run(const struct burrow_attach_config *config);

/* Writes one frame, all of it (blocking). 0 or -errno. */
int burrow_frame_write(int fd, uint32_t type, const void *payload, uint32_t length);
/* Reads one frame: its type, and up to `capacity` bytes of payload into
 * `payload` (the rest is skipped). Returns the payload length, -EPIPE at
 * end of stream, or -errno. */
int burrow_frame_read(int fd, uint32_t *type, void *payload, uint32_t capacity);

/* Receives a descriptor sent with SCM_RIGHTS. Returns it, or -errno. */
int burrow_receive_descriptor(int socket_fd);

/* Starts `path` with `argv` and `envp` in a session of its own, standard
 * streams on /dev/null and the `keep_count` (at most 256) descriptors of
 * `keep` as descriptors 3, 4, ..., every signal at its default. Returns
 * the pid, or -errno. */
int burrow_spawn_detached(const char *path, char *const argv[], char *const envp[], const int *keep, int keep_count);

/* Lets go of the pages of burrow's own code that start-up touched (they
 * fault back in from the page cache when used). The number of ranges, or -1. */
int burrow_release_code_pages(void);

#endif
