#!/usr/bin/env bash
# bench/start.sh: start-up latency of a trivial container (`true`), burrow next
# to its peers, in ONE hyperfine run, with each tool's ratio to a floor.
#
# The floor is the least any rootless engine can do: a user+mount+pid namespace
# and a chroot into the same busybox rootfs (`unshare -Urmpf chroot ROOTFS
# /bin/true`). Everything an engine adds on top (image lookup, overlay mount,
# /proc and /dev, state files, id mapping through newuidmap) shows up as the
# ratio. All tools run as the same unprivileged user because that is the only
# configuration burrow is built for; measuring as root would hide the costs
# (newuidmap, user namespaces) that matter.
#
# With subordinate ids, burrow's containers join a standing user namespace
# that a sleeping `burrow __keeper` holds (newuidmap runs once, when it is
# made). Two rows show both sides: "burrow" reuses the namespace, as every
# start but the first does; "burrow-cold" removes it before each run, so
# newuidmap and newgidmap are timed too.
#
# Usage: bench/start.sh [--burrow PATH] [--runs N] [--warmup N] [--image FILE]
#                       [--quiet] [--both-users]
#   env:  BURROW, BENCH_RUNS (50), BENCH_WARMUP (5), BENCH_IMAGE,
#         BENCH_USER (the user to become when started as root),
#         BENCH_USERS (for --both-users; default "burrow-sub burrow-nosub",
#         created when missing, as scripts/test.sh creates them)
#
# Started as root, it also installs what it needs from Debian and, on a host
# with hybrid cgroups whose v2 hierarchy holds controllers (crun refuses to
# start there), binds those controllers to v1 hierarchies instead, and says so.
#
# Nothing is fetched from the network: every tool gets the image from the local
# oci-archive. Scratch state lives under /tmp/burrow-bench-$USER-XXXX and is
# removed on exit.

set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)

BURROW=${BURROW:-$REPO/.build/release/burrow}
RUNS=${BENCH_RUNS:-50}
WARMUP=${BENCH_WARMUP:-5}
IMAGE=${BENCH_IMAGE:-$REPO/../shared/images/busybox.oci.tar}
BOTH_USERS=0
QUIET=0
RSS_RUNS=5                       # burrow runs for the peak-RSS figure
TOOLS=(floor burrow burrow-cold bwrap crun podman)
# Safe PATH for the re-run as another user: root's PATH may point into /root
# (pyenv shims and the like), which the user cannot search.
SANE_PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin

usage() {
    sed -n '2,/^$/p' "$SCRIPT" | sed 's/^# \{0,1\}//'
}

die() { echo "start.sh: $*" >&2; exit 1; }

parse_args() {
    while (($#)); do
        case $1 in
            --burrow) BURROW=${2:?--burrow needs a path}; shift ;;
            --burrow=*) BURROW=${1#*=} ;;
            --runs) RUNS=${2:?--runs needs a number}; shift ;;
            --runs=*) RUNS=${1#*=} ;;
            --warmup) WARMUP=${2:?--warmup needs a number}; shift ;;
            --warmup=*) WARMUP=${1#*=} ;;
            --image) IMAGE=${2:?--image needs a file}; shift ;;
            --image=*) IMAGE=${1#*=} ;;
            --both-users) BOTH_USERS=1 ;;
            -q|--quiet) QUIET=1 ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option '$1' (see --help)" ;;
        esac
        shift
    done
    [[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 2 ]] || die "--runs must be a number >= 2"
    [[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number"
    # Absolute (the re-run as another user starts in /), symlinks kept so the
    # header shows the path as given.
    BURROW=$(realpath -s "$BURROW")
    IMAGE=$(realpath -s "$IMAGE")
}

# ---------------------------------------------------------------- as root --

# Re-run this script as USER with a clean environment: a root HOME, PATH or
# XDG_RUNTIME_DIR would leak into the user's tools and break them.
run_as() {
    local user=$1
    id "$user" >/dev/null 2>&1 || die "no such user: $user"
    [[ $(id -u "$user") -ne 0 ]] || die "BENCH_USER must not be root"
    local home
    home=$(getent passwd "$user" | cut -d: -f6)
    local args=(--burrow "$BURROW" --runs "$RUNS" --warmup "$WARMUP" --image "$IMAGE")
    ((QUIET)) && args+=(--quiet)
    # cd /: root's working directory may be unreadable for the user.
    (cd / && runuser -u "$user" -- env -i \
        HOME="$home" USER="$user" LOGNAME="$user" PATH="$SANE_PATH" \
        LANG="${LANG:-C.UTF-8}" TERM="${TERM:-dumb}" \
        bash "$SCRIPT" "${args[@]}")
}

# crun refuses a hybrid cgroup host whose v2 hierarchy has controllers:
# give each of them a v1 hierarchy, which takes it out of v2.
fix_hybrid_cgroups() {
    local unified=/sys/fs/cgroup/unified controller
    [[ -r $unified/cgroup.controllers ]] || return 0
    for controller in $(<"$unified/cgroup.controllers"); do
        mkdir -p "/sys/fs/cgroup/$controller"
        if mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller" 2>/dev/null; then
            echo "note: bound the cgroup controller $controller to a v1 hierarchy (crun refuses hybrid hosts with v2 controllers)"
        fi
    done
}

main_root() {
    # shellcheck source=../scripts/common.sh
    source "$REPO/scripts/common.sh"
    install_packages $RUN_PACKAGES $BENCH_PACKAGES
    command -v runuser >/dev/null || die "runuser (util-linux) is needed to switch users"
    fix_hybrid_cgroups
    if ((BOTH_USERS)); then
        local user rc=0
        id burrow-sub >/dev/null 2>&1 || ensure_user burrow-sub 65536
        id burrow-nosub >/dev/null 2>&1 || ensure_user burrow-nosub 0
        for user in ${BENCH_USERS:-burrow-sub burrow-nosub}; do
            echo "######## as $user ########"
            run_as "$user" || { rc=$?; echo "start.sh: the run as $user failed (exit $rc)" >&2; }
            echo
        done
        return "$rc"
    fi
    [[ -n ${BENCH_USER:-} ]] || die "refusing to run as root: rootless engines must be measured as an
unprivileged user. Set BENCH_USER=<user> (e.g. BENCH_USER=burrow-sub) or pass --both-users."
    run_as "$BENCH_USER"
}

# ------------------------------------------------------------ as the user --

ME=$(id -un)
SCRATCH=""
ROOTFS=""
declare -A CMD=()      # tool -> command line for hyperfine -N
declare -A SKIP=()     # tool -> reason it is not measured
CRUN_ID=""
PODMAN=()              # podman argv prefix with the private store

# Absolute path of a program, also looking in sbin dirs a user's PATH may lack.
find_tool() {
    PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" command -v "$1" 2>/dev/null || true
}

# Quote argv into one hyperfine -N command line (hyperfine splits it with
# POSIX shell-word rules but runs no shell).
cmdline() {
    local out
    printf -v out '%q ' "$@"
    echo "${out% }"
}

# The user's subordinate id range from /etc/subuid, empty if none.
subid_range() {
    local file=$1 uid
    uid=$(id -u)
    awk -F: -v n="$ME" -v u="$uid" '$1 == n || $1 == u { print $2 ":" $3; exit }' "$file" 2>/dev/null || true
}

# Run a tool's exact benchmark command twice (the second run catches leftovers
# such as a container id or name still in use). Succeeds silently; on failure
# sets REASON to the tool's last error line.
REASON=""
smoke() {
    local i err rc
    for i in 1 2; do
        err=$(timeout 120 "$@" 2>&1 >/dev/null </dev/null) && continue
        rc=$?
        # Drop podman's "level=warning" chatter; keep the real error line.
        err=$(printf '%s\n' "$err" | grep -v 'level=warning' | sed -e '/^[[:space:]]*$/d' -e 's/^Error: //' | tail -n1)
        REASON="smoke run failed (exit $rc)${err:+: $err}"
        return 1
    done
}

cleanup() {
    set +e
    [[ -n $SCRATCH && -d $SCRATCH ]] || return 0
    if [[ -n $CRUN_ID ]]; then
        "$CRUN" --root "$SCRATCH/crun-state" delete -f "$CRUN_ID" >/dev/null 2>&1
    fi
    if [[ -x $BURROW && -d $SCRATCH/burrow ]]; then
        "$BURROW" rmi -f busybox >/dev/null 2>&1
    fi
    # burrow's namespace keeper for this run (its pid file is in our private
    # XDG_RUNTIME_DIR).
    bash "$SCRATCH/stop-keeper.sh" 2>/dev/null
    if ((${#PODMAN[@]})); then
        # The store holds files owned by subordinate ids; only podman's user
        # namespace can remove them.
        "${PODMAN[@]}" unshare rm -rf "$SCRATCH/podman-root" "$SCRATCH/podman-run" >/dev/null 2>&1
        # Our private XDG_RUNTIME_DIR made podman start its own pause process
        # (catatonit) that would outlive us: end it, and only it.
        local pidfile=$XDG_RUNTIME_DIR/libpod/tmp/pause.pid pid
        if [[ -r $pidfile ]] && pid=$(<"$pidfile") && [[ $pid =~ ^[0-9]+$ ]] &&
            [[ $(ps -o user= -p "$pid" 2>/dev/null) == "$ME" ]]; then
            kill "$pid" 2>/dev/null
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    chmod -R u+rwX "$SCRATCH" 2>/dev/null
    rm -rf "$SCRATCH" 2>/dev/null
    if [[ -e $SCRATCH ]]; then
        # Files owned by subordinate ids (e.g. burrow's store): remove them in a
        # user namespace that maps the user's range.
        unshare --map-root-user --map-auto rm -rf "$SCRATCH" 2>/dev/null
    fi
    [[ -e $SCRATCH ]] && echo "start.sh: could not remove all of $SCRATCH" >&2
    return 0
}

# The busybox rootfs that floor, bwrap and crun share, extracted once from the
# oci-archive (the same bytes burrow and podman load).
extract_rootfs() {
    local oci=$SCRATCH/oci manifest layer
    mkdir -p "$oci" "$ROOTFS"
    tar -xf "$IMAGE" -C "$oci"
    manifest=$(jq -r '.manifests[0].digest' "$oci/index.json")
    # Layers in order; tar detects gzip itself. The fixture has one layer, so
    # whiteouts are not handled.
    for layer in $(jq -r '.layers[].digest' "$oci/blobs/${manifest/://}"); do
        tar -xf "$oci/blobs/${layer/://}" -C "$ROOTFS"
    done
    rm -rf "$oci"
    [[ -x $ROOTFS/bin/true || -L $ROOTFS/bin/true ]] || die "no /bin/true in the extracted rootfs"
}

setup_floor() {
    local unshare chroot
    unshare=$(find_tool unshare) chroot=$(find_tool chroot)
    [[ -n $unshare && -n $chroot ]] || { SKIP[floor]="unshare or chroot not found"; return; }
    CMD[floor]=$(cmdline "$unshare" -Urmpf "$chroot" "$ROOTFS" /bin/true)
}

setup_burrow() {
    [[ -x $BURROW ]] || { SKIP[burrow]="no executable at $BURROW"; return; }
    export BURROW_ROOT=$SCRATCH/burrow
    local err
    if ! err=$("$BURROW" load -q -i "$IMAGE" 2>&1 >/dev/null); then
        SKIP[burrow]="burrow load failed: $(tail -n1 <<<"$err")"
        return
    fi
    CMD[burrow]=$(cmdline "$BURROW" run --rm busybox true)
}

# The same, without a standing user namespace: stop-keeper.sh runs before
# each timed run (hyperfine --prepare), so every start maps a new namespace.
setup_burrow-cold() {
    [[ -n ${SKIP[burrow]:-} ]] && { SKIP[burrow-cold]=${SKIP[burrow]}; return; }
    if [[ -z $(subid_range /etc/subuid) ]]; then
        SKIP[burrow-cold]="no subordinate ids: every start maps the user's own id directly, as the row above"
        return
    fi
    CMD[burrow-cold]=${CMD[burrow]}
}

setup_bwrap() {
    local bwrap
    bwrap=$(find_tool bwrap)
    [[ -n $bwrap ]] || { SKIP[bwrap]="bwrap not installed"; return; }
    CMD[bwrap]=$(cmdline "$bwrap" --unshare-all --bind "$ROOTFS" / --proc /proc --dev /dev /bin/true)
}

setup_crun() {
    CRUN=$(find_tool crun)
    [[ -n $CRUN ]] || { SKIP[crun]="crun not installed"; return; }
    local bundle=$SCRATCH/crun-bundle
    mkdir -p "$bundle" "$SCRATCH/crun-state"
    (cd "$bundle" && "$CRUN" spec --rootless) || { SKIP[crun]="crun spec --rootless failed"; return; }
    # Explicit single-id mappings, like the floor and bwrap: crun 1.8's
    # `spec --rootless` leaves them out and crun then guesses a range that
    # newuidmap rejects for users without subordinate ids.
    jq --arg root "$ROOTFS" --argjson uid "$(id -u)" --argjson gid "$(id -g)" '
        .process.args = ["/bin/true"] | .process.terminal = false | .root.path = $root
        | .linux.uidMappings = [{containerID: 0, hostID: $uid, size: 1}]
        | .linux.gidMappings = [{containerID: 0, hostID: $gid, size: 1}]' \
        "$bundle/config.json" >"$bundle/config.json.new"
    mv "$bundle/config.json.new" "$bundle/config.json"
    # One fixed id is enough: `crun run` deletes the container when it exits
    # (the double smoke run checks that). No cgroup manager, because none of
    # the other tools creates cgroups either.
    CRUN_ID=bench-$$
    CMD[crun]=$(cmdline "$CRUN" --root "$SCRATCH/crun-state" --cgroup-manager=disabled \
        run --bundle "$bundle" "$CRUN_ID")
}

setup_podman() {
    local podman
    podman=$(find_tool podman)
    [[ -n $podman ]] || { SKIP[podman]="podman not installed"; return; }
    # Rootless podman maps a full range through newuidmap; it does not run
    # with a single id.
    if [[ -z $(subid_range /etc/subuid) || -z $(subid_range /etc/subgid) ]]; then
        SKIP[podman]="no subordinate ids"
        return
    fi
    # Private store, run root and runtime dir so the benchmark neither reads nor
    # changes the user's own podman state. cgroupfs + file events: no systemd
    # user session here.
    PODMAN=("$podman" --root "$SCRATCH/podman-root" --runroot "$SCRATCH/podman-run"
        --cgroup-manager=cgroupfs --events-backend=file)
    local err
    if ! err=$("${PODMAN[@]}" load -q -i "$IMAGE" 2>&1 >/dev/null); then
        SKIP[podman]="podman load failed: $(grep -v level=warning <<<"$err" | tail -n1)"
        return
    fi
    CMD[podman]=$(cmdline "${PODMAN[@]}" run --rm --pull=never --network none localhost/busybox:latest true)
}

# Peak RSS of `burrow run`: prints "KiB how", the largest of a few runs.
# /usr/bin/time when installed, else getrusage(RUSAGE_CHILDREN) from python3.
burrow_peak_rss() {
    local timebin max=0 kb i out how
    timebin=$(type -P time || true)
    for ((i = 0; i < RSS_RUNS; i++)); do
        if [[ -n $timebin ]]; then
            how="max of $RSS_RUNS runs, $timebin -f %M"
            out=$SCRATCH/rss
            command time -f %M -o "$out" "$BURROW" run --rm busybox true </dev/null >/dev/null 2>&1 || return 1
            kb=$(tail -n1 "$out")
        elif command -v python3 >/dev/null; then
            how="max of $RSS_RUNS runs, python3 getrusage(RUSAGE_CHILDREN)"
            kb=$(python3 - "$BURROW" run --rm busybox true <<'EOF'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB on Linux
EOF
            ) || return 1
        else
            return 1
        fi
        ((kb > max)) && max=$kb
    done
    echo "$max $how"
}

print_header() {
    local sub mode
    sub=$(subid_range /etc/subuid)
    if [[ -n $sub ]]; then mode="subordinate ids $sub"; else mode="no subordinate ids"; fi
    echo "== container start-up: user $ME (uid $(id -u), $mode) =="
    echo "kernel $(uname -r); $(hyperfine --version); runs $RUNS, warmup $WARMUP"
    # Background load skews the ratios (hyperfine runs the tools one after
    # another, not interleaved), so say how busy the machine was.
    echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "burrow $BURROW ($("$BURROW" version 2>/dev/null | head -n1 || echo '?'))"
    echo "image $IMAGE"
    echo
}

# tool, mean ms, stddev ms, ratio to the floor; skipped tools in place.
print_table() {
    local json=$1 floor_mean tool mean sd
    floor_mean=$(jq -r '.results[] | select(.command == "floor") | .mean' "$json")
    printf '%-8s %10s %10s %9s\n' tool "mean ms" "stddev ms" "x floor"
    for tool in "${TOOLS[@]}"; do
        if [[ -n ${SKIP[$tool]:-} ]]; then
            printf '%-8s skipped: %s\n' "$tool" "${SKIP[$tool]}"
            continue
        fi
        read -r mean sd < <(jq -r --arg t "$tool" \
            '.results[] | select(.command == $t) | "\(.mean) \(.stddev)"' "$json")
        awk -v t="$tool" -v m="$mean" -v s="$sd" -v f="$floor_mean" \
            'BEGIN { printf "%-8s %10.2f %10.2f %8.2fx\n", t, m * 1000, s * 1000, m / f }'
    done
}

main_user() {
    ((BOTH_USERS)) && die "--both-users switches between two test users, so it must be started as root"
    command -v hyperfine >/dev/null || die "hyperfine is not installed"
    command -v jq >/dev/null || die "jq is not installed"
    [[ -r $IMAGE ]] || die "cannot read the image $IMAGE"

    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/burrow-bench-$ME-XXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    ROOTFS=$SCRATCH/rootfs
    # Keep podman (and anything else XDG-aware) out of the user's home.
    mkdir -m 700 "$SCRATCH/xdg-run" "$SCRATCH/xdg-config" "$SCRATCH/xdg-data"
    export XDG_RUNTIME_DIR=$SCRATCH/xdg-run XDG_CONFIG_HOME=$SCRATCH/xdg-config XDG_DATA_HOME=$SCRATCH/xdg-data

    print_header
    extract_rootfs
    cat >"$SCRATCH/stop-keeper.sh" <<EOF
for f in "$XDG_RUNTIME_DIR"/burrow/userns-*.pid; do
    [ -r "\$f" ] || continue
    read -r pid start <"\$f"
    kill "\$pid" 2>/dev/null && while kill -0 "\$pid" 2>/dev/null; do sleep 0.001; done
    rm -f "\$f"
done
EOF

    local tool names=() cmds=()
    for tool in "${TOOLS[@]}"; do
        "setup_$tool"
        [[ -n ${SKIP[$tool]:-} ]] && continue
        # shellcheck disable=SC2086  # CMD is a quoted command line for hyperfine
        if ! eval smoke "${CMD[$tool]}"; then
            SKIP[$tool]=$REASON
            continue
        fi
        names+=(-n "$tool")
        cmds+=("${CMD[$tool]}")
    done
    [[ -z ${SKIP[floor]:-} ]] || die "the floor does not run (${SKIP[floor]}); no ratios without it"

    # Setting up (podman's load above all) leaves the disk busy writing back;
    # let it drain, or whichever tool runs first pays for it.
    sync
    sleep 3

    local json=$SCRATCH/hyperfine.json
    local style=(--style basic)
    ((QUIET)) && style=(--style none)
    # hyperfine -N pairs the i-th -n with the i-th command.
    local hf=(hyperfine -N "${style[@]}" --runs "$RUNS" --warmup "$WARMUP" --export-json "$json")
    local i
    for ((i = 0; i < ${#cmds[@]}; i++)); do
        hf+=("${names[2 * i]}" "${names[2 * i + 1]}")
        # One --prepare per command: only the cold row stops the keeper.
        if [[ ${names[2 * i + 1]} == burrow-cold ]]; then
            hf+=(--prepare "$(cmdline bash "$SCRATCH/stop-keeper.sh")")
        else
            hf+=(--prepare true)
        fi
    done
    "${hf[@]}" "${cmds[@]}"
    echo

    print_table "$json"

    local rss how
    if [[ -n ${SKIP[burrow]:-} ]]; then
        echo "burrow peak RSS: n/a (burrow skipped)"
    elif read -r rss how < <(burrow_peak_rss) && [[ -n $rss ]]; then
        awk -v k="$rss" -v how="$how" 'BEGIN { printf "burrow peak RSS: %.1f MB (%d KiB; %s)\n", k / 1024, k, how }'
    else
        echo "burrow peak RSS: n/a (neither time nor python3 available, or burrow failed)"
    fi
    echo "target: burrow within 2.00x of the floor; peak RSS under 20 MB"
}

parse_args "$@"
if [[ $(id -u) -eq 0 ]]; then
    main_root
else
    main_user
fi
