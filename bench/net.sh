#!/usr/bin/env bash
# bench/net.sh: the network of a rootless container, burrow next to its peers
# in ONE run, with ratios to plain loopback (the limit) and to burrow.
#
# 1. Published port, host -> container: TCP throughput (iperf3 -c on the host
#    against the published port, the server in the container) and connection
#    rate (each connection: connect, a 1-byte request, a 1-byte reply, close;
#    a few client processes at once) for
#      loopback            the servers run directly on the host (the limit)
#      loopback-image      the image's servers (its python) in a burrow
#                          container with --network host: loopback too, to
#                          show what the image's python costs by itself
#      burrow              burrow run -d -p 127.0.0.1:PORT:CPORT (burrow-net
#                          accepts on the host and splices into the netns)
#      podman-rootlesskit  --network slirp4netns:port_handler=rootlesskit
#                          (podman's default: rootlessport)
#      podman-slirp4netns  --network slirp4netns:port_handler=slirp4netns
#      pasta               podman --network pasta where podman has it (4.4
#                          and later); else pasta attached, as podman attaches
#                          it, to a burrow container started with --network
#                          none: it joins the container's namespaces by PID,
#                          makes its tap device and forwards -t PORT:CPORT
# 2. Outbound, container -> host: iperf3 -c in the container against a server
#    on the host's loopback: burrow with --network
#    slirp:allow_host_loopback=true and podman with
#    slirp4netns:allow_host_loopback=true, both to the gateway 10.0.2.2;
#    pasta to 127.0.0.1 in the container, which its -T option forwards to the
#    host's loopback. (This pasta maps its gateway address to the host's
#    loopback only for replies to connections it forwarded in, and the
#    container shares the host's address, so a new connection to the gateway
#    would leave the machine and one to the host's address would stay in the
#    container: -T is how a pasta container reaches the host's loopback.)
# 3. Memory: VmRSS and Pss (/proc/PID/status, /proc/PID/smaps_rollup) of what
#    each engine runs outside one container with one published port, idle
#    (right after start) and after the throughput runs: burrow's monitor
#    (`burrow __monitor ID`) and its child burrow-net; podman's conmon,
#    slirp4netns and rootlessport (and its rootlessport-child); pasta.
#
# The servers are the same programs everywhere: the host's /usr/bin/iperf3,
# bind-mounted read-only into the containers with its libraries (libiperf,
# libsctp; the image has libssl) and LD_LIBRARY_PATH, and a small Python
# accept loop (the image's python in containers, the host's python3 in the
# loopback row). The clients are always the same host processes. Every address
# used is a loopback or the containers' own: nothing leaves the machine.
#
# Rootless podman needs subordinate ids: without them its rows say so.
#
# Usage: bench/net.sh [--burrow PATH] [--runs N] [--warmup N] [--image FILE]
#                     [--quiet] [--both-users]
#   --runs     measured runs of each figure (default 3); the table gives the
#              mean and the range
#   --warmup   unmeasured 1-second runs first (default 1)
#   --image    an image with python and OpenSSL 3 whose libc is the host's
#              (default: shared/images/python-slim.oci.tar, Debian 12 like
#              the host)
#   env:  BURROW, BENCH_RUNS, BENCH_WARMUP, BENCH_IMAGE,
#         BENCH_NET_SECONDS (5, each iperf3 run),
#         BENCH_CONN_SECONDS (3, each connection-rate run),
#         BENCH_CONN_CLIENTS (2, client processes, and server processes),
#         BENCH_USER (the user to become when started as root),
#         BENCH_USERS (for --both-users; default "burrow-sub burrow-nosub")
#
# Started as root, it installs what it needs from Debian (iperf3,
# slirp4netns, passt, podman, ...), binds v2 cgroup controllers of a hybrid
# host to v1 hierarchies as bench/start.sh does, and re-runs itself as the
# user. Scratch state lives under /tmp/burrow-bench-$USER-XXXX; it, every
# container and server, burrow's namespace keeper and podman's pause process
# are removed on exit.

set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)

BURROW=${BURROW:-$REPO/.build/release/burrow}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-1}
IMAGE=${BENCH_IMAGE:-$REPO/../shared/images/python-slim.oci.tar}
NET_SECONDS=${BENCH_NET_SECONDS:-5}
CONN_SECONDS=${BENCH_CONN_SECONDS:-3}
CONN_CLIENTS=${BENCH_CONN_CLIENTS:-2}
BOTH_USERS=0
QUIET=0
SETTLE=1                          # seconds between start and the idle memory
IPERF_PORT=5201                   # the servers' ports inside the container
CONN_PORT=7000
PUBLISHED=(loopback loopback-image burrow podman-rootlesskit podman-slirp4netns pasta)
OUTBOUND=(burrow podman-slirp4netns pasta)
TARGET_TPUT=0.9                   # published throughput, x loopback
TARGET_CONN=0.8                   # connection rate, x loopback
TARGET_OUT=1.5                    # outbound, x slirp4netns
TARGET_MEM_KIB=$((5 * 1024))      # monitor plus network, VmRSS

# shellcheck source=lib.sh
source "$REPO/bench/lib.sh"

# ------------------------------------------------------------ as the user --

declare -A SKIP=()      # row -> why it is not measured
declare -A FAIL=()      # row.figure -> why a figure is missing
declare -A TPUT=() CONN=() CONNERR=() OUT=()   # row -> "value value ..."
declare -A HOW=()       # row -> how it was run, for the setup lines
MEM_LINES=()            # printed after the tables
declare -A MEMSUM=()    # row.idle / row.after -> "VmRSS Pss" KiB, summed
IPERF=""                # the host's iperf3
PY=""                   # the host's python3
PASTA=""                # pasta, attached to burrow containers
PASTA_PODMAN=0          # 1: podman has --network pasta
B_IMAGE="" P_IMAGE=""   # the image as burrow and podman name it
MOUNTS=()               # -v/-e options giving a container the servers
# What is running now: one server (or container) at a time.
CUR_KIND="" CUR_ID="" CUR_PID="" CUR_LOG="" CUR_PASTA=""

cleanup_tools() {
    stop_server
    local ids
    if [[ -x $BURROW && -d $SCRATCH/burrow ]]; then
        ids=$("$BURROW" ps -aq 2>/dev/null)
        # shellcheck disable=SC2086  # one id a word
        [[ -n $ids ]] && "$BURROW" rm -f $ids >/dev/null 2>&1
        [[ -n $B_IMAGE ]] && "$BURROW" rmi -f "$B_IMAGE" >/dev/null 2>&1
    fi
    if ((${#PODMAN[@]})); then
        "${PODMAN[@]}" rm -a -f -t 0 >/dev/null 2>&1
    fi
    local _
    for _ in $(seq 50); do
        pgrep -u "$ME" -f -- "(__monitor|conmon).*$SCRATCH|$SCRATCH.*(__monitor|conmon)" >/dev/null || break
        sleep 0.1
    done
}

check_leftovers() {
    local left
    left=$(pgrep -u "$ME" -a -f -- "$SCRATCH" | grep -v -e "pgrep" || true)
    [[ -z $left ]] || echo "$PROG: processes left behind:"$'\n'"$left" >&2
}

# A TCP port free on the host's loopback now.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The connection-rate server and client: the same files for every row.
write_conn_programs() {
    cat >"$SCRATCH/connserver.py" <<'EOF'
# connserver.py ADDRESS PORT WORKERS: WORKERS processes accept on one socket;
# for each connection: read 1 byte, answer 1 byte, close.
import os, socket, sys
addr, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(4096)
for _ in range(workers - 1):
    if os.fork() == 0:
        break
else:
    print("ready", flush=True)
while True:
    c, _ = s.accept()
    try:
        if c.recv(1):
            c.sendall(b"y")
    except OSError:
        pass
    c.close()
EOF
    cat >"$SCRATCH/connclient.py" <<'EOF'
# connclient.py HOST PORT SECONDS CLIENTS: CLIENTS processes, each in a loop
# for SECONDS: connect, send 1 byte, read the 1-byte reply, close.
# Prints "connections-per-second errors".
import os, socket, sys, time
host, port, secs, n = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
start = time.monotonic() + 0.2
r, w = os.pipe()
pids = []
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os.close(r)
        while time.monotonic() < start:
            time.sleep(0.001)
        end = start + secs
        ok = err = 0
        while time.monotonic() < end:
            c = socket.socket()
            try:
                c.connect((host, port))
                c.sendall(b"x")
                if c.recv(1) == b"y":
                    ok += 1
                else:
                    err += 1
            except OSError:
                err += 1
            finally:
                c.close()
        os.write(w, b"%d %d\n" % (ok, err))
        os._exit(0)
    pids.append(pid)
os.close(w)
for pid in pids:
    os.waitpid(pid, 0)
words = os.fdopen(r).read().split()
ok = sum(int(x) for x in words[0::2])
err = sum(int(x) for x in words[1::2])
print("%.0f %d" % (ok / secs, err))
EOF
}

# The -v/-e options that give a container the host's iperf3 and the Python
# server, read-only.
make_mounts() {
    local lib name path
    MOUNTS=(-v "$IPERF:/opt/iperf3/iperf3:ro")
    for name in libiperf.so.0 libsctp.so.1; do
        path=$(ldd "$IPERF" | awk -v n="$name" '$1 == n { print $3 }')
        [[ -n $path ]] || continue     # built without it
        lib=$(readlink -f "$path")
        MOUNTS+=(-v "$lib:/opt/iperf3/$name:ro")
    done
    MOUNTS+=(-v "$SCRATCH/connserver.py:/opt/bench/connserver.py:ro" -e LD_LIBRARY_PATH=/opt/iperf3)
}

# The servers' argv inside a container: ctr_server KIND [ADDRESS PORT];
# without an address, every address and the server's own port.
ctr_server() {
    local kind=$1 addr=${2:-} port=${3:-}
    case $kind in
        iperf)
            if [[ -n $addr ]]; then
                echo /opt/iperf3/iperf3 -s -B "$addr" -p "$port" --forceflush
            else
                echo /opt/iperf3/iperf3 -s -p "$IPERF_PORT" --forceflush
            fi ;;
        conn) echo python -u /opt/bench/connserver.py "${addr:-0.0.0.0}" "${port:-$CONN_PORT}" "$CONN_CLIENTS" ;;
    esac
}
ctr_port() { if [[ $1 == iperf ]]; then echo "$IPERF_PORT"; else echo "$CONN_PORT"; fi; }

# start_server ROW KIND HOSTPORT: the KIND (iperf|conn) server reachable on
# 127.0.0.1:HOSTPORT the ROW's way. Sets CUR_*; on failure returns 1 with
# REASON set.
start_server() {
    local row=$1 kind=$2 hp=$3 cp
    cp=$(ctr_port "$kind")
    case $row in
        loopback)
            CUR_KIND=host CUR_LOG=$SCRATCH/server.log
            if [[ $kind == iperf ]]; then
                "$IPERF" -s -B 127.0.0.1 -p "$hp" --forceflush >"$CUR_LOG" 2>&1 &
            else
                "$PY" -u "$SCRATCH/connserver.py" 127.0.0.1 "$hp" "$CONN_CLIENTS" >"$CUR_LOG" 2>&1 &
            fi
            CUR_PID=$!
            ;;
        loopback-image)
            # shellcheck disable=SC2046  # ctr_server prints an argv of plain words
            burrow_server --network host -- $(ctr_server "$kind" 127.0.0.1 "$hp") || return 1 ;;
        burrow)
            # shellcheck disable=SC2046
            burrow_server -p "127.0.0.1:$hp:$cp" -- $(ctr_server "$kind") || return 1 ;;
        podman-rootlesskit) start_podman slirp4netns:port_handler=rootlesskit "$kind" "$hp" "$cp" || return 1 ;;
        podman-slirp4netns) start_podman slirp4netns:port_handler=slirp4netns "$kind" "$hp" "$cp" || return 1 ;;
        pasta)
            if ((PASTA_PODMAN)); then
                start_podman pasta "$kind" "$hp" "$cp" || return 1
            else
                # shellcheck disable=SC2046
                burrow_server --network none -- $(ctr_server "$kind") || return 1
                attach_pasta -t "127.0.0.1/$hp:$cp" -u none -T none -U none || return 1
            fi ;;
    esac
    wait_ready "$kind"
}

# burrow_server RUN-OPTION... -- ARGV...: a detached burrow container of the
# image, with the servers mounted.
burrow_server() {
    local opts=() out
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    CUR_KIND=burrow
    if ! out=$("$BURROW" run -d "${opts[@]}" "${MOUNTS[@]}" "$B_IMAGE" "$@" 2>&1 </dev/null); then
        REASON="burrow run failed: $(tail -n1 <<<"$out")"
        return 1
    fi
    CUR_ID=$(tail -n1 <<<"$out")
}

# attach_pasta OPTION...: pasta gives the current burrow container (started
# with --network none) its network, as podman --network pasta has it do:
# it joins the container's user and network namespaces by the PID of its
# PID 1, configures a tap device there, forwards as the options say, and
# ends when the namespace does.
attach_pasta() {
    local pid err
    pid=$("$BURROW" inspect -f '{{.State.Pid}}' "$CUR_ID" 2>/dev/null || true)
    [[ $pid =~ ^[1-9][0-9]*$ ]] || { REASON="no PID for the container pasta should join"; return 1; }
    rm -f "$SCRATCH/pasta.pid"
    if ! err=$("$PASTA" -q --config-net "$@" -P "$SCRATCH/pasta.pid" "$pid" 2>&1 </dev/null); then
        REASON="pasta failed: $(tail -n1 <<<"$err")"
        return 1
    fi
    CUR_PASTA=$(cat "$SCRATCH/pasta.pid" 2>/dev/null || true)
}

start_podman() {
    local net=$1 kind=$2 hp=$3 cp=$4 out
    CUR_KIND=podman
    # shellcheck disable=SC2046  # ctr_server prints an argv of plain words
    if ! out=$("${PODMAN[@]}" run -d --pull=never --network "$net" -p "127.0.0.1:$hp:$cp" \
        "${MOUNTS[@]}" "$P_IMAGE" $(ctr_server "$kind") 2>&1 </dev/null); then
        REASON="podman run failed: $(grep -v level=warning <<<"$out" | sed 's/^Error: //' | tail -n1)"
        return 1
    fi
    CUR_ID=$(tail -n1 <<<"$out")
}

server_log() {
    case $CUR_KIND in
        host) cat "$CUR_LOG" 2>/dev/null ;;
        burrow) "$BURROW" logs "$CUR_ID" 2>&1 ;;
        podman) "${PODMAN[@]}" logs "$CUR_ID" 2>&1 ;;
    esac
}

# Until the server says it listens (up to 20 s).
wait_ready() {
    local pattern=ready _
    [[ $1 == iperf ]] && pattern="Server listening"
    for _ in $(seq 200); do
        server_log | grep -q "$pattern" && return 0
        sleep 0.1
    done
    REASON="the server did not start: $(server_log | tail -n1)"
    return 1
}

stop_server() {
    local _
    case $CUR_KIND in
        host)
            # The connection server's workers are its children.
            pkill -P "$CUR_PID" 2>/dev/null || true
            kill "$CUR_PID" 2>/dev/null || true
            wait "$CUR_PID" 2>/dev/null || true
            ;;
        burrow) "$BURROW" rm -f "$CUR_ID" >/dev/null 2>&1 || true ;;
        podman) "${PODMAN[@]}" rm -f -t 0 "$CUR_ID" >/dev/null 2>&1 || true ;;
    esac
    if [[ -n $CUR_PASTA ]]; then
        # pasta ends with the namespace; if it does not, end it.
        for _ in $(seq 10); do kill -0 "$CUR_PASTA" 2>/dev/null || break; sleep 0.1; done
        kill "$CUR_PASTA" 2>/dev/null || true
    fi
    CUR_KIND="" CUR_ID="" CUR_PID="" CUR_LOG="" CUR_PASTA=""
    return 0
}

# iperf3 ARGS... -> bits per second received, or fails with REASON.
iperf_bps() {
    local json bps err
    json=$(timeout $((NET_SECONDS + 30)) "$@" -J 2>"$SCRATCH/iperf.err" </dev/null) || true
    bps=$(jq -r '.end.sum_received.bits_per_second // empty' <<<"$json" 2>/dev/null || true)
    if [[ -z $bps ]]; then
        err=$(jq -r '.error // empty' <<<"$json" 2>/dev/null || true)
        [[ -n $err ]] || err=$(grep -v level=warning "$SCRATCH/iperf.err" | sed 's/^Error: //' | tail -n1)
        REASON="iperf3 failed: ${err:-no output}"
        return 1
    fi
    echo "$bps"
}

# "rate errors" of one connection-rate run against 127.0.0.1:PORT.
conn_rate() {
    timeout $((CONN_SECONDS + 30)) "$PY" "$SCRATCH/connclient.py" 127.0.0.1 "$1" "$2" "$CONN_CLIENTS"
}

# ------------------------------------------------------------ memory --

# "VmRSS Pss" of a process in KiB, "? ?" if it cannot be read.
mem_of() {
    local pid=$1 rss pss
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
    echo "${rss:-?} ${pss:-?}"
}

# Processes of ours named NAME (comm) that belong to this run: their command
# line or environment names the scratch dir (podman passes XDG_RUNTIME_DIR
# on to its helpers).
our_procs() {
    local pid
    for pid in $(pgrep -u "$ME" -x "$1" 2>/dev/null); do
        if grep -qaF -- "$SCRATCH" "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null; then
            echo "$pid"
        fi
    done
}

# "label pid" of each process the current server's engine keeps beside it.
helper_pids() {
    local pid mon name child
    if [[ -n $CUR_PASTA ]]; then
        # The container is burrow's; its network is pasta alone.
        echo "pasta $CUR_PASTA"
        return 0
    fi
    case $CUR_KIND in
        burrow)
            mon=$(pgrep -u "$ME" -f -- "__monitor $CUR_ID\$" | head -n1 || true)
            [[ -n $mon ]] || return 0
            echo "__monitor $mon"
            for pid in $(pgrep -P "$mon" -x burrow-net 2>/dev/null); do echo "burrow-net $pid"; done
            ;;
        podman)
            pid=$("${PODMAN[@]}" inspect --format '{{.State.ConmonPid}}' "$CUR_ID" 2>/dev/null || true)
            [[ $pid =~ ^[1-9][0-9]*$ ]] && echo "conmon $pid"
            # pasta runs as passt.avx2 where the CPU has AVX2.
            for name in slirp4netns rootlessport pasta passt.avx2; do
                for pid in $(our_procs "$name"); do
                    echo "${name/passt.avx2/pasta} $pid"
                    # rootlessport re-executes itself as rootlessport-child,
                    # in the container's namespaces (comm "exe").
                    [[ $name == rootlessport ]] || continue
                    for child in $(pgrep -P "$pid" 2>/dev/null || true); do echo "rootlessport-child $child"; done
                done
            done
            ;;
    esac
}

# mem_sample ROW WHEN: memory of the current server's helpers into MEM_LINES.
mem_sample() {
    local row=$1 when=$2 label pid rss pss trss=0 tpss=0 n=0
    while read -r label pid; do
        [[ -n $pid ]] || continue
        read -r rss pss < <(mem_of "$pid")
        MEM_LINES+=("$(printf '%-20s %-7s %-18s %7s %9s %9s' "$row" "$when" "$label" "$pid" "$rss" "$pss")")
        [[ $rss =~ ^[0-9]+$ ]] && trss=$((trss + rss))
        # Pss is unreadable for a process that made itself undumpable
        # (pasta): then there is no Pss total.
        if [[ $pss =~ ^[0-9]+$ && $tpss != "?" ]]; then tpss=$((tpss + pss)); else tpss="?"; fi
        n=$((n + 1))
    done < <(helper_pids)
    ((n)) && MEMSUM[$row.$when]="$trss $tpss"
    return 0
}

# ------------------------------------------------------------ the runs --

# Published-port figures for one row.
measure_published() {
    local row=$1 hp i bps line rate err
    hp=$(free_port)
    if ! start_server "$row" iperf "$hp"; then
        FAIL[$row.tput]=$REASON FAIL[$row.conn]=$REASON
        stop_server
        return
    fi
    local mem=1
    [[ $row == loopback* ]] && mem=0
    sleep "$SETTLE"
    ((mem)) && mem_sample "$row" idle
    for ((i = 0; i < WARMUP; i++)); do
        iperf_bps "$IPERF" -c 127.0.0.1 -p "$hp" -t 1 >/dev/null || break
        sleep 0.3
    done
    for ((i = 0; i < RUNS; i++)); do
        if ! bps=$(iperf_bps "$IPERF" -c 127.0.0.1 -p "$hp" -t "$NET_SECONDS"); then
            FAIL[$row.tput]=$REASON
            break
        fi
        TPUT[$row]+="$bps "
        sleep 0.3       # iperf3 -s takes a moment before it takes the next test
    done
    ((mem)) && mem_sample "$row" after
    stop_server

    hp=$(free_port)
    if ! start_server "$row" conn "$hp"; then
        FAIL[$row.conn]=$REASON
        stop_server
        return
    fi
    for ((i = 0; i < WARMUP; i++)); do conn_rate "$hp" 1 >/dev/null || true; done
    for ((i = 0; i < RUNS; i++)); do
        if ! line=$(conn_rate "$hp" "$CONN_SECONDS") || ! read -r rate err <<<"$line" || [[ ! $rate =~ ^[0-9]+$ ]]; then
            FAIL[$row.conn]="the client failed: $(tail -n1 <<<"${line:-}")"
            break
        fi
        if ((rate == 0)); then
            FAIL[$row.conn]="no connection got its reply ($err errors)"
            break
        fi
        CONN[$row]+="$rate "
        CONNERR[$row]=$((${CONNERR[$row]:-0} + err))
    done
    stop_server
}

# Outbound, container -> the host's loopback, for one row:
# outbound_client ROW HOSTPORT SECONDS.
outbound_client() {
    local row=$1 hp=$2 secs=$3
    case $row in
        burrow)
            iperf_bps "$BURROW" run --rm --network slirp:allow_host_loopback=true "${MOUNTS[@]}" "$B_IMAGE" \
                /opt/iperf3/iperf3 -c 10.0.2.2 -p "$hp" -t "$secs" ;;
        podman-slirp4netns)
            iperf_bps "${PODMAN[@]}" run --rm --pull=never --network slirp4netns:allow_host_loopback=true \
                "${MOUNTS[@]}" "$P_IMAGE" /opt/iperf3/iperf3 -c 10.0.2.2 -p "$hp" -t "$secs" ;;
        pasta)
            if ((PASTA_PODMAN)); then
                iperf_bps "${PODMAN[@]}" run --rm --pull=never --network "pasta:-T,$hp" \
                    "${MOUNTS[@]}" "$P_IMAGE" /opt/iperf3/iperf3 -c 127.0.0.1 -p "$hp" -t "$secs"
            else
                # In the container measure_outbound started, pasta attached.
                iperf_bps "$BURROW" exec "$CUR_ID" /opt/iperf3/iperf3 -c 127.0.0.1 -p "$hp" -t "$secs"
            fi ;;
    esac
}

measure_outbound() {
    local row=$1 i n hp bps spid secs _
    hp=$(free_port)
    if [[ $row == pasta ]] && ((!PASTA_PODMAN)); then
        # One container for all the runs: pasta forwards its loopback port
        # HOSTPORT to the host's (-T), fixed when pasta starts.
        if ! burrow_server --network none -- sleep 100000 ||
            ! attach_pasta -t none -u none -T "$hp" -U none; then
            FAIL[$row.out]=$REASON
            stop_server
            return 0
        fi
    fi
    n=$((WARMUP + RUNS))
    for ((i = 0; i < n; i++)); do
        secs=$NET_SECONDS
        ((i < WARMUP)) && secs=1
        "$IPERF" -s -1 -B 127.0.0.1 -p "$hp" --forceflush >"$SCRATCH/outbound.log" 2>&1 &
        spid=$!
        for _ in $(seq 100); do grep -q "Server listening" "$SCRATCH/outbound.log" && break; sleep 0.1; done
        if bps=$(outbound_client "$row" "$hp" "$secs"); then
            ((i >= WARMUP)) && OUT[$row]+="$bps "
        else
            FAIL[$row.out]=$REASON
        fi
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
        [[ -n ${FAIL[$row.out]:-} ]] && break
    done
    stop_server
}

# ------------------------------------------------------------ setup --

setup_burrow() {
    [[ -x $BURROW ]] || { SKIP[burrow]="no executable at $BURROW"; return; }
    [[ -x $(dirname "$BURROW")/burrow-net ]] ||
        { SKIP[burrow]="no burrow-net beside $BURROW"; return; }
    export BURROW_ROOT=$SCRATCH/burrow
    local out
    if ! out=$("$BURROW" load -i "$IMAGE" 2>&1 </dev/null); then
        SKIP[burrow]="burrow load failed: $(tail -n1 <<<"$out")"
        return
    fi
    B_IMAGE=$(sed -n 's/^Loaded image: //p' <<<"$out" | head -n1)
    [[ -n $B_IMAGE ]] || SKIP[burrow]="burrow load named no image"
}

setup_podman() {
    local reason=""
    if ! setup_private_podman; then
        reason=$REASON
    else
        P_IMAGE=$("${PODMAN[@]}" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | head -n1)
        [[ -n $P_IMAGE ]] || reason="podman load named no image"
    fi
    if [[ -n $reason ]]; then
        SKIP[podman-rootlesskit]=$reason
        SKIP[podman-slirp4netns]=$reason
    fi
    [[ -n $(find_tool slirp4netns) ]] || {
        SKIP[podman-rootlesskit]="slirp4netns not installed"
        SKIP[podman-slirp4netns]="slirp4netns not installed"
    }
}

# podman --network pasta where podman has it; else pasta attached to a burrow
# container.
setup_pasta() {
    PASTA=$(find_tool pasta)
    [[ -n $PASTA ]] || { SKIP[pasta]="pasta not installed (Debian package passt)"; return; }
    local version
    version="pasta $(dpkg-query -W -f='${Version}' passt 2>/dev/null || echo '?')"
    NOTES+=("pasta's outbound row connects to 127.0.0.1 in the container, which pasta -T splices to the host's loopback socket to socket (as published ports are), while burrow and slirp4netns carry it through their userspace TCP stacks to 10.0.2.2. This pasta reaches the host's loopback through its gateway address only for replies, and the container has the host's own address, so -T is the way here; nothing is sent to a non-loopback address")
    if [[ -n $P_IMAGE && -z ${SKIP[podman-rootlesskit]:-} ]]; then
        local err
        if err=$("${PODMAN[@]}" run --rm --pull=never --network pasta "$P_IMAGE" true 2>&1 </dev/null); then
            PASTA_PODMAN=1
            HOW[pasta]="podman --network pasta ($version)"
            return
        fi
        err=$(grep -v level=warning <<<"$err" | sed 's/^Error: //' | tail -n1)
        NOTES+=("podman $("${PODMAN[@]}" version --format '{{.Client.Version}}' 2>/dev/null) cannot run --network pasta ($err; podman has it from 4.4 on): the pasta rows attach pasta to a burrow container started with --network none, as podman attaches it to its own (pasta joins the container's namespaces by PID, makes its tap device and forwards -t/-T ports); no conmon")
    else
        NOTES+=("podman is not usable here: the pasta rows attach pasta to a burrow container started with --network none, as podman would attach it to its own")
    fi
    HOW[pasta]="$version joining a burrow --network none container: -t 127.0.0.1/PORT:CPORT; outbound -T PORT"
}

# ------------------------------------------------------------ output --

# stats "v v v" SCALE -> "mean min max" scaled (values / SCALE).
stats() {
    awk -v s="$2" '{ for (i = 1; i <= NF; i++) { v = $i / s; t += v; if (i == 1 || v < lo) lo = v; if (i == 1 || v > hi) hi = v }
        if (NF) printf "%.6g %.6g %.6g\n", t / NF, lo, hi }' <<<"$1"
}

mean_of() { stats "$1" 1 | awk '{ print $1 }'; }

# ratio_unless ROW SELF A B: ratio A B, blank in the row the column is about.
ratio_unless() {
    if [[ $1 == "$2" ]]; then echo ""; else ratio "$3" "$4"; fi
}

ratio() {   # ratio A B -> "A/B" with 2 decimals, "-" if either is missing
    [[ -n $1 && -n $2 ]] || { echo "-"; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx\n", a / b; else print "-" }'
}

# A figure's cell: "mean (min-max)" or the reason it is missing.
cell() {   # cell VALUES SCALE FORMAT
    local mean lo hi
    read -r mean lo hi < <(stats "$1" "$2") || true
    [[ -n ${mean:-} ]] || return 1
    # shellcheck disable=SC2059  # the format is the caller's number format
    printf "$3 ($3-$3)" "$mean" "$lo" "$hi"
}

print_published() {
    local row tcell ccell lt lc bt bc t c
    lt=$(mean_of "${TPUT[loopback]:-}") lc=$(mean_of "${CONN[loopback]:-}")
    bt=$(mean_of "${TPUT[burrow]:-}") bc=$(mean_of "${CONN[burrow]:-}")
    echo "published port, host -> container (127.0.0.1:PORT): iperf3 -t $NET_SECONDS, $RUNS runs;"
    echo "connections: $CONN_CLIENTS client processes for $CONN_SECONDS s, $RUNS runs; mean (min-max)"
    printf '%-19s %-22s %7s %8s   %-20s %7s %8s\n' row "Gbit/s" "x loop" "x burrow" "conn/s" "x loop" "x burrow"
    for row in "${PUBLISHED[@]}"; do
        if [[ -n ${SKIP[$row]:-} ]]; then
            printf '%-19s skipped: %s\n' "$row" "${SKIP[$row]}"
            continue
        fi
        t=$(mean_of "${TPUT[$row]:-}") c=$(mean_of "${CONN[$row]:-}")
        tcell=$(cell "${TPUT[$row]:-}" 1e9 %.1f) || tcell="failed"
        ccell=$(cell "${CONN[$row]:-}" 1 %.0f) || ccell="failed"
        printf '%-19s %-22s %7s %8s   %-20s %7s %8s\n' "$row" "$tcell" "$(ratio "$t" "$lt")" \
            "$(ratio_unless "$row" burrow "$t" "$bt")" "$ccell" "$(ratio "$c" "$lc")" \
            "$(ratio_unless "$row" burrow "$c" "$bc")"
        [[ -n ${FAIL[$row.tput]:-} ]] && printf '%-19s   throughput: %s\n' "" "${FAIL[$row.tput]}"
        [[ -n ${FAIL[$row.conn]:-} ]] && printf '%-19s   connections: %s\n' "" "${FAIL[$row.conn]}"
        ((${CONNERR[$row]:-0})) && printf '%-19s   %s failed connections (not counted)\n' "" "${CONNERR[$row]}"
    done
    return 0
}

print_outbound() {
    local row s b t
    s=$(mean_of "${OUT[podman-slirp4netns]:-}") b=$(mean_of "${OUT[burrow]:-}")
    echo "outbound, container -> a server on the host's loopback: iperf3 -t $NET_SECONDS, $RUNS runs"
    printf '%-19s %-22s %13s %8s  %s\n' row "Gbit/s" "x slirp4netns" "x burrow" "to"
    for row in "${OUTBOUND[@]}"; do
        local to="10.0.2.2 (allow_host_loopback=true)"
        [[ $row == pasta ]] && to="127.0.0.1, forwarded by pasta -T"
        if [[ -n ${SKIP[$row]:-} ]]; then
            printf '%-19s skipped: %s\n' "$row" "${SKIP[$row]}"
            continue
        fi
        t=$(mean_of "${OUT[$row]:-}")
        printf '%-19s %-22s %13s %8s  %s\n' "$row" "$(cell "${OUT[$row]:-}" 1e9 %.1f || echo failed)" \
            "$(ratio_unless "$row" podman-slirp4netns "$t" "$s")" \
            "$(ratio_unless "$row" burrow "$t" "$b")" "$to"
        [[ -n ${FAIL[$row.out]:-} ]] && printf '%-19s   %s\n' "" "${FAIL[$row.out]}"
    done
    return 0
}

print_memory() {
    local row when rss pss
    echo "memory outside the container, one container with one published port (KiB; MB = 1024 KiB);"
    echo "idle: ${SETTLE} s after start; after: after the throughput runs"
    printf '%-20s %-7s %-18s %7s %9s %9s\n' row when process pid VmRSS Pss
    printf '%s\n' ${MEM_LINES[@]+"${MEM_LINES[@]}"}
    echo
    local brss
    read -r brss _ <<<"${MEMSUM[burrow.after]:-}" || true
    printf '%-20s %18s %18s %9s\n' "total per container" "idle VmRSS/Pss MB" "after VmRSS/Pss MB" "x burrow"
    for row in burrow podman-rootlesskit podman-slirp4netns pasta; do
        [[ -n ${MEMSUM[$row.idle]:-} || -n ${MEMSUM[$row.after]:-} ]] || continue
        printf '%-20s' "$row"
        for when in idle after; do
            if read -r rss pss <<<"${MEMSUM[$row.$when]:-}" && [[ -n ${rss:-} ]]; then
                awk -v r="$rss" -v p="$pss" 'BEGIN { printf " %18s", sprintf("%.2f / %s", r / 1024, (p == "?") ? "?" : sprintf("%.2f", p / 1024)) }'
            else
                printf ' %18s' "-"
            fi
        done
        read -r rss _ <<<"${MEMSUM[$row.after]:-}" || true
        if [[ $row != burrow ]]; then printf ' %9s' "$(ratio "${rss:-}" "${brss:-}")"; fi
        echo
    done
    return 0
}

# met / not met / n/a
verdict() {   # verdict VALUE OP LIMIT
    [[ -n $1 && -n $3 ]] || { echo "n/a"; return; }
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= l : v < l; print ok ? "met" : "not met" }'
}

print_targets() {
    local lt lc bt bc s bo r rss
    lt=$(mean_of "${TPUT[loopback]:-}") lc=$(mean_of "${CONN[loopback]:-}")
    bt=$(mean_of "${TPUT[burrow]:-}") bc=$(mean_of "${CONN[burrow]:-}")
    s=$(mean_of "${OUT[podman-slirp4netns]:-}") bo=$(mean_of "${OUT[burrow]:-}")
    echo "targets (issue #4):"
    r=$(awk -v a="$bt" -v b="$lt" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }')
    printf '  published throughput >= %.1fx loopback: %s: %s\n' "$TARGET_TPUT" "${r:-n/a}${r:+x}" "$(verdict "$r" ">=" "$TARGET_TPUT")"
    r=$(awk -v a="$bc" -v b="$lc" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }')
    printf '  connection rate >= %.1fx loopback: %s: %s\n' "$TARGET_CONN" "${r:-n/a}${r:+x}" "$(verdict "$r" ">=" "$TARGET_CONN")"
    local row ahead_t=1 ahead_c=1 peers=0 pt pc
    for row in podman-rootlesskit podman-slirp4netns pasta; do
        pt=$(mean_of "${TPUT[$row]:-}") pc=$(mean_of "${CONN[$row]:-}")
        [[ -n $pt || -n $pc ]] || continue
        peers=$((peers + 1))
        [[ -n $bt && -n $pt ]] && awk -v b="$bt" -v p="$pt" 'BEGIN { exit !(b <= p) }' && ahead_t=0
        [[ -n $bc && -n $pc ]] && awk -v b="$bc" -v p="$pc" 'BEGIN { exit !(b <= p) }' && ahead_c=0
    done
    if ((peers)) && [[ -n $bt && -n $bc ]]; then
        printf '  ahead of every peer measured: throughput %s, connection rate %s\n' \
            "$( ((ahead_t)) && echo met || echo "not met")" "$( ((ahead_c)) && echo met || echo "not met")"
    else
        echo "  ahead of every peer: n/a (no peer or no burrow figure)"
    fi
    r=$(awk -v a="$bo" -v b="$s" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }')
    if [[ -n $r ]]; then
        printf '  outbound >= %.1fx slirp4netns: %sx: %s\n' "$TARGET_OUT" "$r" "$(verdict "$r" ">=" "$TARGET_OUT")"
    else
        printf '  outbound >= %.1fx slirp4netns: n/a (no figure for burrow or slirp4netns)\n' "$TARGET_OUT"
    fi
    read -r rss _ <<<"${MEMSUM[burrow.after]:-${MEMSUM[burrow.idle]:-}}" || true
    if [[ -n ${rss:-} ]]; then
        awk -v r="$rss" -v t="$TARGET_MEM_KIB" -v v="$(verdict "$rss" "<" "$TARGET_MEM_KIB")" 'BEGIN {
            printf "  monitor + burrow-net under %.0f MB VmRSS: %.2f MB: %s\n", t / 1024, r / 1024, v }'
    else
        printf '  monitor + burrow-net under %.0f MB VmRSS: n/a\n' "$((TARGET_MEM_KIB / 1024))"
    fi
}

main_user() {
    ((BOTH_USERS)) && die "--both-users switches between two test users, so it must be started as root"
    command -v jq >/dev/null || die "jq is not installed"
    IPERF=$(find_tool iperf3)
    [[ -n $IPERF ]] || die "iperf3 is not installed"
    PY=$(type -P python3 || true)
    [[ -n $PY ]] || die "python3 is not installed"
    [[ -r $IMAGE ]] || die "cannot read the image $IMAGE"
    [[ $NET_SECONDS =~ ^[1-9][0-9]*$ && $CONN_SECONDS =~ ^[1-9][0-9]*$ && $CONN_CLIENTS =~ ^[1-9][0-9]*$ ]] ||
        die "BENCH_NET_SECONDS, BENCH_CONN_SECONDS and BENCH_CONN_CLIENTS must be numbers >= 1"

    make_scratch
    trap 'cleanup; check_leftovers' EXIT
    # slirp4netns's API socket lives in podman's tmpdir, and its path must
    # fit in 108 bytes: the scratch dir is too deep for it.
    # shellcheck disable=SC2034  # read by lib.sh
    PODMAN_TMPDIR=$(mktemp -d /tmp/bnet-XXXXXX)
    write_conn_programs
    make_mounts

    # shellcheck disable=SC2034  # read by lib.sh's print_header
    HEADER_TOOLS="$("$IPERF" --version | head -n1 | cut -d' ' -f1-2), $("$PY" --version)"
    print_header "container networking: published ports, outbound, memory"

    setup_burrow
    [[ -z ${SKIP[burrow]:-} ]] || die "burrow does not run (${SKIP[burrow]})"
    setup_podman
    setup_pasta
    HOW[loopback]="the servers on the host, 127.0.0.1 (the limit; the host's python3 for the connections)"
    HOW[loopback-image]="the same, the image's servers (its python) in a burrow container with --network host"
    HOW[burrow]="burrow run -d -p 127.0.0.1:PORT:CPORT; outbound --network slirp:allow_host_loopback=true"
    HOW[podman-rootlesskit]="podman --network slirp4netns:port_handler=rootlesskit (its default)"
    HOW[podman-slirp4netns]="podman --network slirp4netns:port_handler=slirp4netns; outbound slirp4netns:allow_host_loopback=true"
    local row
    for row in "${PUBLISHED[@]}"; do printf '  %-19s %s\n' "$row" "${HOW[$row]:-}"; done
    if [[ -z ${SKIP[podman-rootlesskit]:-} ]]; then
        echo "podman $("${PODMAN[@]}" version --format '{{.Client.Version}}' 2>/dev/null || echo '?')," \
            "slirp4netns $(slirp4netns --version 2>/dev/null | awk 'NR == 1 { print $3 }'):" \
            "private --root/--runroot, cgroupfs, storage $("${PODMAN[@]}" info --format '{{.Store.GraphDriverName}}' 2>/dev/null || echo '?')"
    fi
    local note
    for note in ${NOTES[@]+"${NOTES[@]}"}; do echo "note: $note"; done
    echo
    sync
    sleep 2

    for row in "${PUBLISHED[@]}"; do
        [[ -n ${SKIP[$row]:-} ]] && continue
        ((QUIET)) || echo "measuring $row (published port) ..." >&2
        measure_published "$row"
    done
    for row in "${OUTBOUND[@]}"; do
        [[ -n ${SKIP[$row]:-} ]] && continue
        ((QUIET)) || echo "measuring $row (outbound) ..." >&2
        measure_outbound "$row"
    done
    ((QUIET)) || echo >&2

    echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    print_published
    echo
    print_outbound
    echo
    print_memory
    echo
    print_targets
}

parse_args "$@"
if [[ $(id -u) -eq 0 ]]; then
    main_root
else
    main_user
fi
