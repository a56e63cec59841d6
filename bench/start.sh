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

# shellcheck source=lib.sh
source "$REPO/bench/lib.sh"

# ------------------------------------------------------------ as the user --

ROOTFS=""
declare -A CMD=()      # tool -> command line for hyperfine -N
declare -A SKIP=()     # tool -> reason it is not measured
CRUN_ID=""

# Called by lib.sh's cleanup before the keeper, podman's store and the scratch
# dir go.
cleanup_tools() {
    if [[ -n $CRUN_ID ]]; then
        "$CRUN" --root "$SCRATCH/crun-state" delete -f "$CRUN_ID" >/dev/null 2>&1
    fi
    if [[ -x $BURROW && -d $SCRATCH/burrow ]]; then
        "$BURROW" rmi -f busybox >/dev/null 2>&1
    fi
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
    if ! setup_private_podman; then
        SKIP[podman]=$REASON
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

    make_scratch
    ROOTFS=$SCRATCH/rootfs

    print_header "container start-up"
    extract_rootfs

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
    for note in ${NOTES[@]+"${NOTES[@]}"}; do echo "note: $note"; done

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
