# bench/lib.sh: what the benchmarks in bench/ share. Sourced, not run, by a
# script that has set SCRIPT (its own absolute path), REPO, and the option
# variables BURROW, RUNS, WARMUP, IMAGE, BOTH_USERS and QUIET.
#
# Every bench takes the same options, re-runs itself as an unprivileged user
# when started as root, and keeps burrow's and podman's state in a private
# scratch dir that its cleanup removes, together with the processes the tools
# leave behind (burrow's namespace keeper, podman's pause process).
# shellcheck shell=bash disable=SC2034  # REASON and others are the caller's

PROG=${SCRIPT##*/}
# Safe PATH for the re-run as another user: root's PATH may point into /root
# (pyenv shims and the like), which the user cannot search.
SANE_PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin

usage() {
    sed -n '2,/^$/p' "$SCRIPT" | sed 's/^# \{0,1\}//'
}

die() { echo "$PROG: $*" >&2; exit 1; }

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
    # The benches' own settings (BENCH_*) go along; nothing else does.
    local keep=() var
    for var in ${!BENCH_@}; do keep+=("$var=${!var}"); done
    # cd /: root's working directory may be unreadable for the user.
    (cd / && runuser -u "$user" -- env -i \
        HOME="$home" USER="$user" LOGNAME="$user" PATH="$SANE_PATH" \
        LANG="${LANG:-C.UTF-8}" TERM="${TERM:-dumb}" ${keep[@]+"${keep[@]}"} \
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

# As root: install what the benches need (plus the Debian packages named as
# arguments), then run the script as BENCH_USER, or as both test users.
main_root() {
    # shellcheck source=../scripts/common.sh
    source "$REPO/scripts/common.sh"
    # shellcheck disable=SC2086  # the package lists are space-separated words
    install_packages $RUN_PACKAGES $BENCH_PACKAGES "$@"
    command -v runuser >/dev/null || die "runuser (util-linux) is needed to switch users"
    fix_hybrid_cgroups
    if ((BOTH_USERS)); then
        local user rc=0
        id burrow-sub >/dev/null 2>&1 || ensure_user burrow-sub 65536
        id burrow-nosub >/dev/null 2>&1 || ensure_user burrow-nosub 0
        for user in ${BENCH_USERS:-burrow-sub burrow-nosub}; do
            echo "######## as $user ########"
            run_as "$user" || { rc=$?; echo "$PROG: the run as $user failed (exit $rc)" >&2; }
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
PODMAN=()              # podman argv prefix with the private store, once set up
NOTES=()               # lines printed with the results

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
    local err rc
    for _ in 1 2; do
        err=$(timeout 120 "$@" 2>&1 >/dev/null </dev/null) && continue
        rc=$?
        # Drop podman's "level=warning" chatter; keep the real error line.
        err=$(printf '%s\n' "$err" | grep -v 'level=warning' | sed -e '/^[[:space:]]*$/d' -e 's/^Error: //' | tail -n1)
        REASON="smoke run failed (exit $rc)${err:+: $err}"
        return 1
    done
}

# The private scratch dir, with its own XDG dirs so podman (and anything else
# XDG-aware) stays out of the user's home and burrow's keeper and podman's
# pause process are this run's own. Removed on exit by cleanup.
make_scratch() {
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/burrow-bench-$ME-XXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    mkdir -m 700 "$SCRATCH/xdg-run" "$SCRATCH/xdg-config" "$SCRATCH/xdg-data"
    export XDG_RUNTIME_DIR=$SCRATCH/xdg-run XDG_CONFIG_HOME=$SCRATCH/xdg-config XDG_DATA_HOME=$SCRATCH/xdg-data
    # Ends burrow's namespace keeper for this run (its pid file is in our
    # private XDG_RUNTIME_DIR).
    cat >"$SCRATCH/stop-keeper.sh" <<EOF
for f in "$XDG_RUNTIME_DIR"/burrow/userns-*.pid; do
    [ -r "\$f" ] || continue
    read -r pid start <"\$f"
    kill "\$pid" 2>/dev/null && while kill -0 "\$pid" 2>/dev/null; do sleep 0.001; done
    rm -f "\$f"
done
EOF
}

# Pid of podman's pause process for this run (it holds podman's user
# namespace), empty if there is none of ours.
# Rootless podman with a private store, run root and runtime dir, so the
# benchmark neither reads nor changes the user's own podman state
# (cgroupfs and file events: no systemd user session here), the image
# loaded. Native overlay in the user namespace, as burrow mounts its
# containers: without a storage.conf podman 4.3 picks vfs here, which
# copies the image for every container and would flatter burrow. Sets
# PODMAN; on failure sets REASON and returns 1. A note goes to NOTES.
setup_private_podman() {
    local podman err
    podman=$(find_tool podman)
    [[ -n $podman ]] || { REASON="podman not installed"; return 1; }
    # Rootless podman maps a full range through newuidmap; it does not run
    # with a single id.
    if [[ -z $(subid_range /etc/subuid) || -z $(subid_range /etc/subgid) ]]; then
        REASON="no subordinate ids (rootless podman maps a full range through newuidmap)"
        return 1
    fi
    PODMAN=("$podman" --root "$SCRATCH/podman-root" --runroot "$SCRATCH/podman-run"
        --cgroup-manager=cgroupfs --events-backend=file)
    # PODMAN_TMPDIR: a short --tmpdir, for benches that need podman's socket
    # paths (slirp4netns's API socket) under the 108-byte limit.
    [[ -n ${PODMAN_TMPDIR:-} ]] && PODMAN+=(--tmpdir "$PODMAN_TMPDIR")
    if err=$("${PODMAN[@]}" --storage-driver overlay load -q -i "$IMAGE" 2>&1 >/dev/null); then
        PODMAN+=(--storage-driver overlay)
        return 0
    fi
    "${PODMAN[@]}" unshare rm -rf "$SCRATCH/podman-root" "$SCRATCH/podman-run" >/dev/null 2>&1 || true
    NOTES+=("podman cannot use native overlay here ($(grep -v level=warning <<<"$err" | tail -n1)): its default driver instead")
    if ! err=$("${PODMAN[@]}" load -q -i "$IMAGE" 2>&1 >/dev/null); then
        REASON="podman load failed: $(grep -v level=warning <<<"$err" | tail -n1)"
        return 1
    fi
}

podman_pause_pid() {
    local pidfile=${PODMAN_TMPDIR:-$XDG_RUNTIME_DIR/libpod/tmp}/pause.pid pid
    if [[ -r $pidfile ]] && pid=$(<"$pidfile") && [[ $pid =~ ^[0-9]+$ ]] &&
        [[ $(ps -o user= -p "$pid" 2>/dev/null) == "$ME" ]]; then
        echo "$pid"
    fi
}

# Pid of burrow's namespace keeper for this run, empty if none.
burrow_keeper_pid() {
    local f pid start
    for f in "$XDG_RUNTIME_DIR"/burrow/userns-*.pid; do
        [[ -r $f ]] || continue
        read -r pid _ <"$f" || true
        [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return; }
    done
    return 0
}

# Each script may define cleanup_tools: its own containers and images, removed
# before the keeper, podman's store and the scratch dir go.
cleanup() {
    set +e
    [[ -n $SCRATCH && -d $SCRATCH ]] || return 0
    declare -F cleanup_tools >/dev/null && cleanup_tools
    bash "$SCRATCH/stop-keeper.sh" 2>/dev/null
    if ((${#PODMAN[@]})); then
        # The store holds files owned by subordinate ids; only podman's user
        # namespace can remove them.
        "${PODMAN[@]}" unshare rm -rf "$SCRATCH/podman-root" "$SCRATCH/podman-run" >/dev/null 2>&1
        # Our private XDG_RUNTIME_DIR made podman start its own pause process
        # (catatonit) that would outlive us: end it, and only it.
        local pid
        pid=$(podman_pause_pid)
        if [[ -n $pid ]]; then
            kill "$pid" 2>/dev/null
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    [[ -n ${PODMAN_TMPDIR:-} ]] && rm -rf "$PODMAN_TMPDIR" 2>/dev/null
    chmod -R u+rwX "$SCRATCH" 2>/dev/null
    rm -rf "$SCRATCH" 2>/dev/null
    if [[ -e $SCRATCH ]]; then
        # Files owned by subordinate ids (e.g. burrow's store): remove them in a
        # user namespace that maps the user's range.
        unshare --map-root-user --map-auto rm -rf "$SCRATCH" 2>/dev/null
    fi
    [[ -e $SCRATCH ]] && echo "$PROG: could not remove all of $SCRATCH" >&2
    return 0
}

# The header every bench prints: TITLE, then the machine, then any further
# lines given, then a blank line.
print_header() {
    local title=$1 sub mode
    shift
    sub=$(subid_range /etc/subuid)
    if [[ -n $sub ]]; then mode="subordinate ids $sub"; else mode="no subordinate ids"; fi
    echo "== $title: user $ME (uid $(id -u), $mode) =="
    # HEADER_TOOLS: the measuring tools' versions, if not hyperfine's.
    echo "kernel $(uname -r); ${HEADER_TOOLS:-$(hyperfine --version)}; runs $RUNS, warmup $WARMUP"
    # Background load skews the ratios (hyperfine runs the tools one after
    # another, not interleaved), so say how busy the machine was.
    echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "burrow $BURROW ($("$BURROW" version 2>/dev/null | head -n1 || echo '?'))"
    echo "image $IMAGE"
    (($#)) && printf '%s\n' "$@"
    echo
}
