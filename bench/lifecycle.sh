#!/usr/bin/env bash
# bench/lifecycle.sh: the whole life of a detached container as a user types
# it, burrow next to rootless podman in ONE hyperfine run, with the ratio
# podman/burrow; then the memory of the process each engine keeps beside a
# running container.
#
# 1. The cycle: `run -d --init --name NAME busybox sleep 1000`, `stop NAME`,
#    `rm NAME`, one bash script per tool that hyperfine runs whole (hyperfine
#    -N runs no shell, and the cycle is three commands). bash's own start-up
#    is in every row alike; the "harness" row runs the same script with
#    /bin/true in place of the engine, so it shows that cost, and the ratio is
#    also given with it taken out. --init gives both containers an init that
#    passes SIGTERM on, so `stop` ends them at once rather than waiting for
#    the 10 s SIGKILL (sleep as PID 1 ignores SIGTERM). Podman's --init needs
#    catatonit; if it still cannot run one, both tools drop --init and stop
#    with `-t 0` (SIGKILL at once), and the output says so.
#    Podman runs rootless with a private --root/--runroot, cgroupfs, file
#    events, --network none and --pull=never, the image loaded from the same
#    oci-archive as burrow's, and native overlay storage like burrow's (its
#    default here would be vfs, which copies the image for each container).
# 2. Memory: a few detached containers per tool; after a short settle, VmRSS
#    (/proc/PID/status) and Pss (/proc/PID/smaps_rollup) of burrow's
#    per-container monitor (`burrow __monitor ID`) and of podman's conmon and
#    any other helper podman runs outside the container (slirp4netns,
#    rootlessport, pasta: none with --network none; fuse-overlayfs: none with
#    native overlay), per container.
#
# Rootless podman needs subordinate ids: without them it is skipped and only
# burrow's figures are printed.
#
# Usage: bench/lifecycle.sh [--burrow PATH] [--runs N] [--warmup N]
#                           [--image FILE] [--quiet] [--both-users]
#   env:  BURROW, BENCH_RUNS (50), BENCH_WARMUP (5), BENCH_IMAGE,
#         BENCH_MEM_CONTAINERS (3, containers per tool for the memory figures),
#         BENCH_USER (the user to become when started as root),
#         BENCH_USERS (for --both-users; default "burrow-sub burrow-nosub",
#         created when missing, as scripts/test.sh creates them)
#
# Started as root, it installs what it needs from Debian (catatonit too),
# binds v2 cgroup controllers of a hybrid host to v1 hierarchies as
# bench/start.sh does, and re-runs itself as the user: rootless engines are
# measured as an unprivileged user only.
#
# Nothing is fetched from the network. Scratch state lives under
# /tmp/burrow-bench-$USER-XXXX; it, every container, burrow's namespace keeper
# and podman's pause process are removed on exit.

set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)

BURROW=${BURROW:-$REPO/.build/release/burrow}
RUNS=${BENCH_RUNS:-50}
WARMUP=${BENCH_WARMUP:-5}
IMAGE=${BENCH_IMAGE:-$REPO/../shared/images/busybox.oci.tar}
MEM_CONTAINERS=${BENCH_MEM_CONTAINERS:-3}
BOTH_USERS=0
QUIET=0
SETTLE=1                         # seconds between `run -d` and reading memory
NAME=bench-cycle                 # the cycle's container name
TOOLS=(burrow podman harness)
TARGET_RATIO=10                  # the cycle, podman/burrow
TARGET_LATER_KIB=$((5 * 1024))   # monitor plus network, a later target

# shellcheck source=lib.sh
source "$REPO/bench/lib.sh"

# ------------------------------------------------------------ as the user --

declare -A SKIP=()     # tool -> reason it is not measured
declare -A CYCLE=()    # tool -> the cycle as typed, for the output
INIT=1                 # 0: neither tool can use --init; stop -t 0 instead

cleanup_tools() {
    local ids
    if [[ -x $BURROW && -d $SCRATCH/burrow ]]; then
        ids=$("$BURROW" ps -aq 2>/dev/null)
        # shellcheck disable=SC2086  # one id a word
        [[ -n $ids ]] && "$BURROW" rm -f $ids >/dev/null 2>&1
        "$BURROW" rmi -f busybox >/dev/null 2>&1
    fi
    if ((${#PODMAN[@]})); then
        "${PODMAN[@]}" rm -a -f -t 0 >/dev/null 2>&1
    fi
    # Monitors and conmons end with their containers; let them go before
    # their state does.
    local _
    for _ in $(seq 50); do
        pgrep -u "$ME" -f -- "(__monitor|conmon).*$SCRATCH|$SCRATCH.*(__monitor|conmon)" >/dev/null || break
        sleep 0.1
    done
}

# Whatever still names the scratch dir once cleanup is done is a leak.
check_leftovers() {
    local left
    left=$(pgrep -u "$ME" -a -f -- "$SCRATCH" | grep -v -e "pgrep" || true)
    [[ -z $left ]] || echo "$PROG: processes left behind:"$'\n'"$left" >&2
}

# The cycle as a bash script: write_cycle TOOL IMAGE [RUN-OPTION...] -- ARGV...
# where ARGV is the engine with its global options.
write_cycle() {
    local tool=$1 image=$2 run_opts=() argv=() run stop rm
    shift 2
    while [[ $1 != -- ]]; do run_opts+=("$1"); shift; done
    shift
    argv=("$@")
    run=(run -d)
    ((INIT)) && run+=(--init)
    run+=(--name "$NAME" "${run_opts[@]}" "$image" sleep 1000)
    stop=(stop)
    ((INIT)) || stop+=(-t 0)
    stop+=("$NAME")
    rm=(rm "$NAME")
    {
        echo "# $tool: one detached container's life, as a user types it"
        echo "set -e"
        cmdline "${argv[@]}" "${run[@]}"
        cmdline "${argv[@]}" "${stop[@]}"
        cmdline "${argv[@]}" "${rm[@]}"
    } >"$SCRATCH/cycle-$tool.sh"
    CYCLE[$tool]="${run[*]}; ${stop[*]}; ${rm[*]}"
}

setup_burrow() {
    [[ -x $BURROW ]] || { SKIP[burrow]="no executable at $BURROW"; return; }
    export BURROW_ROOT=$SCRATCH/burrow
    local err
    if ! err=$("$BURROW" load -q -i "$IMAGE" 2>&1 >/dev/null); then
        SKIP[burrow]="burrow load failed: $(tail -n1 <<<"$err")"
        return
    fi
    write_cycle burrow busybox -- "$BURROW"
}

# The same script, /bin/true in place of the engine: bash and three execs.
setup_harness() {
    local t
    t=$(type -P true || true)    # the program, not the builtin
    [[ -n $t ]] || { SKIP[harness]="no true(1)"; return; }
    write_cycle harness busybox -- "$t"
    CYCLE[harness]="bash running the same script with $t in place of the engine"
}

setup_podman() {
    if ! setup_private_podman; then
        SKIP[podman]=$REASON
        return
    fi
    write_podman_cycle
}

write_podman_cycle() {
    write_cycle podman localhost/busybox:latest --network none --pull=never -- "${PODMAN[@]}"
}

# Smoke-test each cycle (twice: the name must be free again afterwards). If
# only podman's --init fails, both tools drop it and stop with -t 0.
check_cycles() {
    local tool
    for tool in burrow podman harness; do
        [[ -n ${SKIP[$tool]:-} ]] && continue
        smoke bash "$SCRATCH/cycle-$tool.sh" && continue
        if [[ $tool == podman ]] && ((INIT)); then
            local why=$REASON
            INIT=0
            write_podman_cycle
            if smoke bash "$SCRATCH/cycle-podman.sh"; then
                NOTES+=("podman cannot run --init here ($why): neither tool gets --init, and both stop with -t 0 (SIGKILL at once)")
                if [[ -z ${SKIP[burrow]:-} ]]; then
                    write_cycle burrow busybox -- "$BURROW"
                    smoke bash "$SCRATCH/cycle-burrow.sh" || SKIP[burrow]=$REASON
                fi
                setup_harness
                continue
            fi
            INIT=1
            REASON=$why
        fi
        SKIP[$tool]=$REASON
    done
}

print_setup() {
    local tool
    echo "cycle, one bash script per tool, as typed:"
    for tool in burrow podman harness; do
        [[ -n ${CYCLE[$tool]:-} ]] && printf '  %-8s %s\n' "$tool" "${CYCLE[$tool]}"
    done
    if [[ -z ${SKIP[podman]:-} ]]; then
        local version driver init
        version=$("${PODMAN[@]}" version --format '{{.Client.Version}}' 2>/dev/null || echo '?')
        driver=$("${PODMAN[@]}" info --format '{{.Store.GraphDriverName}}' 2>/dev/null || echo '?')
        if ((INIT)); then init="--init by catatonit ($(find_tool catatonit))"; else init="no --init (see the note)"; fi
        echo "podman $version: private --root/--runroot in the scratch dir, --cgroup-manager=cgroupfs,"
        echo "  --events-backend=file, storage driver $driver, $init"
    fi
    local note
    for note in ${NOTES[@]+"${NOTES[@]}"}; do echo "note: $note"; done
    echo
}

# tool, mean ms, stddev ms, and podman's time over each row's.
print_table() {
    local json=$1 tool mean sd
    declare -A MEAN=()
    printf '%-8s %10s %10s\n' tool "mean ms" "stddev ms"
    for tool in "${TOOLS[@]}"; do
        if [[ -n ${SKIP[$tool]:-} ]]; then
            printf '%-8s skipped: %s\n' "$tool" "${SKIP[$tool]}"
            continue
        fi
        read -r mean sd < <(jq -r --arg t "$tool" \
            '.results[] | select(.command == $t) | "\(.mean) \(.stddev)"' "$json")
        MEAN[$tool]=$mean
        awk -v t="$tool" -v m="$mean" -v s="$sd" \
            'BEGIN { printf "%-8s %10.2f %10.2f\n", t, m * 1000, s * 1000 }'
    done
    if [[ -z ${MEAN[burrow]:-} || -z ${MEAN[podman]:-} ]]; then
        echo "podman/burrow: n/a (${SKIP[podman]:+podman skipped}${SKIP[burrow]:+burrow skipped})"
        echo "target: the cycle ${TARGET_RATIO}x faster than podman's"
        return
    fi
    awk -v b="${MEAN[burrow]}" -v p="${MEAN[podman]}" -v h="${MEAN[harness]:-}" -v t="$TARGET_RATIO" 'BEGIN {
        r = p / b
        printf "podman/burrow: %.2fx", r
        if (h != "" && b > h) printf " (%.2fx with the harness taken out of both)", (p - h) / (b - h)
        printf "\ntarget: the cycle %dx faster than podman'"'"'s: %s\n", t, (r >= t) ? "met" : "not met"
    }'
}

# "VmRSS RssAnon Pss" of a process in KiB; "?" for what cannot be read.
mem_of() {
    local pid=$1 rss anon pss
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    anon=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
    echo "${rss:-?} ${anon:-?} ${pss:-?}"
}

MEM_ROWS=()
# mem_row LABEL PID: prints the row, adds "LABEL VmRSS Pss" to MEM_ROWS.
mem_row() {
    local label=$1 pid=$2 rss anon pss
    read -r rss anon pss < <(mem_of "$pid")
    printf '%-22s %7s %10s %12s %9s\n' "$label" "$pid" "$rss" "$anon" "$pss"
    MEM_ROWS+=("${label%% #*} $rss $pss")
}

# Mean VmRSS and Pss (KiB) over the rows whose label starts with $1.
mem_mean() {
    printf '%s\n' "${MEM_ROWS[@]}" | awk -v l="$1" '
        index($0, l " ") == 1 && $(NF-1) ~ /^[0-9]+$/ { n++; r += $(NF-1); p += ($NF ~ /^[0-9]+$/ ? $NF : 0) }
        END { if (n) printf "%.0f %.0f\n", r / n, p / n }'
}

measure_memory() {
    local tool i id pid have=()
    declare -A IDS=()
    echo "memory beside each running container, ${SETTLE} s after \`run -d\`," \
        "$MEM_CONTAINERS containers per tool (KiB; MB = 1024 KiB):"
    for tool in burrow podman; do
        [[ -n ${SKIP[$tool]:-} ]] && continue
        have+=("$tool")
        for ((i = 1; i <= MEM_CONTAINERS; i++)); do
            local run=(run -d)
            ((INIT)) && run+=(--init)
            if [[ $tool == burrow ]]; then
                id=$("$BURROW" "${run[@]}" --name "bench-mem-$i" busybox sleep 1000 </dev/null 2>/dev/null | tail -n1) || id=""
            else
                id=$("${PODMAN[@]}" "${run[@]}" --name "bench-mem-$i" --network none --pull=never \
                    localhost/busybox:latest sleep 1000 </dev/null 2>/dev/null | tail -n1) || id=""
            fi
            IDS[$tool.$i]=$id
        done
    done
    sleep "$SETTLE"

    printf '%-22s %7s %10s %12s %9s\n' process pid "VmRSS" "RssAnon" "Pss"
    for tool in ${have[@]+"${have[@]}"}; do
        for ((i = 1; i <= MEM_CONTAINERS; i++)); do
            id=${IDS[$tool.$i]}
            pid=""
            if [[ -n $id && $tool == burrow ]]; then
                pid=$(pgrep -u "$ME" -f -- "__monitor $id\$" | head -n1 || true)
            elif [[ -n $id ]]; then
                pid=$("${PODMAN[@]}" inspect --format '{{.State.ConmonPid}}' "$id" 2>/dev/null || true)
                [[ $pid =~ ^[1-9][0-9]*$ ]] || pid=""
            fi
            local label="burrow __monitor #$i"
            [[ $tool == podman ]] && label="podman conmon #$i"
            if [[ -z $pid ]]; then
                printf '%-22s not found (%s)\n' "$label" "${id:+the container did not keep running}${id:-run -d failed}"
                continue
            fi
            mem_row "$label" "$pid"
        done
    done
    # Podman's network helpers run outside the container, one set per
    # container; with --network none there are none. Its catatonit runs
    # inside the container as PID 1, as burrow's /dev/init does: counted for
    # neither.
    local helpers=0 name
    if [[ -z ${SKIP[podman]:-} ]]; then
        for name in slirp4netns rootlessport pasta fuse-overlayfs; do
            for pid in $(pgrep -u "$ME" -x "$name" || true); do
                mem_row "podman $name" "$pid"
                helpers=1
            done
        done
    fi

    # Standing per-user processes, for scale (not per container).
    local keeper pause standing=0
    keeper=$(burrow_keeper_pid)
    [[ -n $keeper ]] && { mem_row "burrow __keeper" "$keeper"; standing=1; }
    if [[ -z ${SKIP[podman]:-} ]]; then
        pause=$(podman_pause_pid)
        [[ -n $pause ]] && { mem_row "podman pause" "$pause"; standing=1; }
    fi
    ((standing)) && echo "(__keeper and pause hold the user namespace: one per user, not per container)"
    if ((INIT)); then
        if [[ -z ${SKIP[podman]:-} ]]; then
            echo "(burrow's /dev/init and podman's catatonit run inside the container: not counted)"
        else
            echo "(burrow's /dev/init runs inside the container: not counted)"
        fi
    fi
    echo

    local mon_rss mon_pss con_rss con_pss hel_rss=0 hel_pss=0
    read -r mon_rss mon_pss < <(mem_mean "burrow __monitor") || true
    if [[ -z ${SKIP[podman]:-} ]]; then
        read -r con_rss con_pss < <(mem_mean "podman conmon") || true
        if ((helpers)); then
            # All helpers found, spread over the containers.
            read -r hel_rss hel_pss < <(printf '%s\n' "${MEM_ROWS[@]}" |
                awk -v n="$MEM_CONTAINERS" '$1 == "podman" && $2 != "conmon" && $2 != "pause" { r += $(NF-1); p += $NF }
                    END { printf "%.0f %.0f\n", r / n, p / n }')
        fi
    fi
    printf '%-30s %10s %9s\n' "mean per container" "VmRSS MB" "Pss MB"
    [[ -n ${mon_rss:-} ]] && awk -v r="$mon_rss" -v p="$mon_pss" \
        'BEGIN { printf "%-30s %10.2f %9.2f\n", "burrow __monitor", r / 1024, p / 1024 }'
    local podman_label="podman conmon"
    ((helpers)) && podman_label="podman conmon + helpers"
    [[ -n ${con_rss:-} ]] && awk -v r="$((con_rss + hel_rss))" -v p="$((con_pss + hel_pss))" -v l="$podman_label" \
        'BEGIN { printf "%-30s %10.2f %9.2f\n", l, r / 1024, p / 1024 }'
    if [[ -n ${mon_rss:-} && -n ${con_rss:-} ]]; then
        awk -v mr="$mon_rss" -v mp="$mon_pss" -v cr="$((con_rss + hel_rss))" -v cp="$((con_pss + hel_pss))" -v l="$podman_label / monitor" \
            'BEGIN { printf "%-30s %9.2fx %8.2fx\n", l, cr / mr, (mp ? cp / mp : 0) }'
    fi

    if [[ -z ${mon_rss:-} ]]; then
        echo "target: n/a (no burrow monitor measured)"
        return
    fi
    if [[ -n ${SKIP[podman]:-} ]]; then
        echo "target (the monitor's RSS below conmon + slirp4netns together): n/a, podman skipped"
    elif ((helpers)); then
        awk -v m="$mon_rss" -v c="$((con_rss + hel_rss))" 'BEGIN {
            printf "target: the monitor'"'"'s RSS below conmon + slirp4netns together: %.2f MB vs %.2f MB: %s\n",
                m / 1024, c / 1024, (m < c) ? "met" : "not met" }'
    else
        awk -v m="$mon_rss" -v c="$con_rss" 'BEGIN {
            printf "target: the monitor'"'"'s RSS below conmon + slirp4netns together; slirp4netns is not running\n"
            printf "  (--network none), so against conmon alone: %.2f MB vs %.2f MB: %s\n",
                m / 1024, c / 1024, (m < c) ? "met" : "not met" }'
    fi
    awk -v m="$mon_rss" -v t="$TARGET_LATER_KIB" 'BEGIN {
        printf "later target, monitor plus network under %.0f MB: the monitor alone is %.2f MB now (burrow has no network process yet)\n",
            t / 1024, m / 1024 }'
}

main_user() {
    ((BOTH_USERS)) && die "--both-users switches between two test users, so it must be started as root"
    command -v hyperfine >/dev/null || die "hyperfine is not installed"
    command -v jq >/dev/null || die "jq is not installed"
    [[ -r $IMAGE ]] || die "cannot read the image $IMAGE"
    [[ $MEM_CONTAINERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_MEM_CONTAINERS must be a number >= 1"

    make_scratch
    trap 'cleanup; check_leftovers' EXIT

    print_header "container lifecycle (run -d, stop, rm) and per-container memory"

    local tool
    for tool in "${TOOLS[@]}"; do "setup_$tool"; done
    [[ -z ${SKIP[burrow]:-} ]] || die "burrow does not run (${SKIP[burrow]})"
    check_cycles
    [[ -z ${SKIP[burrow]:-} ]] || die "burrow's cycle does not run (${SKIP[burrow]})"
    print_setup

    # Setting up (podman's load above all) leaves the disk busy writing back;
    # let it drain, or whichever tool runs first pays for it.
    sync
    sleep 3

    local json=$SCRATCH/hyperfine.json
    local style=(--style basic)
    ((QUIET)) && style=(--style none)
    local hf=(hyperfine -N "${style[@]}" --runs "$RUNS" --warmup "$WARMUP" --export-json "$json")
    for tool in "${TOOLS[@]}"; do
        [[ -n ${SKIP[$tool]:-} ]] && continue
        hf+=(-n "$tool" "$(cmdline bash "$SCRATCH/cycle-$tool.sh")")
    done
    "${hf[@]}"
    echo

    print_table "$json"
    echo
    measure_memory
}

parse_args "$@"
if [[ $(id -u) -eq 0 ]]; then
    main_root catatonit
else
    main_user
fi
