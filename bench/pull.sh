#!/usr/bin/env bash
# bench/pull.sh: pulling an image from a registry on loopback, burrow next to
# podman (and skopeo when installed), in ONE hyperfine run, with ratios.
#
# A docker-registry started by the bench on 127.0.0.1 holds the image (pushed
# there by burrow from the oci-archive). Rows:
#   burrow-cold   nothing in the store: every layer is downloaded, verified, unpacked
#   burrow-warm   the image is there: the manifest is fetched, nothing else
#   podman-cold / podman-warm   the same with podman pull
#   skopeo        skopeo copy to an oci directory (download and verify only)
# The ratios are burrow's time over podman's for the same case.
#
# Usage: bench/pull.sh [--burrow PATH] [--runs N] [--warmup N] [--image FILE]
#                      [--quiet] [--both-users]
#   env:  BURROW, BENCH_RUNS (5), BENCH_WARMUP (1), BENCH_IMAGE (python-slim),
#         BENCH_USER, BENCH_USERS, as in bench/start.sh
#
# Started as root it installs what it needs from Debian (docker-registry,
# skopeo) and runs as BENCH_USER. Nothing leaves the machine: the registry
# listens on loopback only. Scratch state is removed on exit.

set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)

BURROW=${BURROW:-$REPO/.build/release/burrow}
RUNS=${BENCH_RUNS:-5}
WARMUP=${BENCH_WARMUP:-1}
IMAGE=${BENCH_IMAGE:-$REPO/../shared/images/python-slim.oci.tar}
BOTH_USERS=0
QUIET=0
TOOLS=(burrow-cold burrow-warm podman-cold podman-warm skopeo)

# shellcheck source=lib.sh
source "$REPO/bench/lib.sh"

declare -A CMD=() PREPARE=() SKIP=()
REGISTRY_PID=""
REF=""

cleanup_tools() {
    [[ -n $REGISTRY_PID ]] && kill -KILL "$REGISTRY_PID" 2>/dev/null
    [[ -x $BURROW && -d $SCRATCH/burrow ]] && BURROW_ROOT=$SCRATCH/burrow "$BURROW" rmi -f "$REF" >/dev/null 2>&1
    return 0
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_registry() {
    local registry port
    registry=$(find_tool docker-registry)
    [[ -n $registry ]] || die "docker-registry is not installed (Debian package docker-registry)"
    port=$(free_port)
    cat >"$SCRATCH/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $SCRATCH/registry
http:
  addr: 127.0.0.1:$port
YAML
    "$registry" serve "$SCRATCH/registry.yml" >"$SCRATCH/registry.log" 2>&1 &
    REGISTRY_PID=$!
    # Not a job of this shell: its SIGKILL at cleanup is not reported.
    disown "$REGISTRY_PID"
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
        sleep 0.05
    done
    curl -sf "http://127.0.0.1:$port/v2/" >/dev/null || die "docker-registry did not start: $(tail -n1 "$SCRATCH/registry.log")"
    REF=127.0.0.1:$port/bench/image:latest
    # burrow pushes the image it loaded: the registry gets the archive's own blobs.
    local seed=$SCRATCH/seed
    BURROW_ROOT=$seed "$BURROW" load -q -i "$IMAGE" >/dev/null
    BURROW_ROOT=$seed "$BURROW" tag "$(BURROW_ROOT=$seed "$BURROW" images -q | head -n1)" "$REF"
    BURROW_ROOT=$seed "$BURROW" push -q "$REF" >/dev/null
}

setup_burrow() {
    export BURROW_ROOT=$SCRATCH/burrow
    CMD[burrow-cold]=$(cmdline "$BURROW" pull -q "$REF")
    PREPARE[burrow-cold]=$(cmdline "$BURROW" rmi -f "$REF")
    CMD[burrow-warm]=${CMD[burrow-cold]}
    PREPARE[burrow-warm]=true
}

setup_podman() {
    local podman
    podman=$(find_tool podman)
    [[ -n $podman ]] || { SKIP[podman-cold]="podman not installed"; SKIP[podman-warm]=${SKIP[podman-cold]}; return; }
    if [[ -z $(subid_range /etc/subuid) ]]; then
        SKIP[podman-cold]="no subordinate ids (rootless podman maps a full range through newuidmap)"
        SKIP[podman-warm]=${SKIP[podman-cold]}
        return
    fi
    PODMAN=("$podman" --root "$SCRATCH/podman-root" --runroot "$SCRATCH/podman-run"
        --cgroup-manager=cgroupfs --events-backend=file --storage-driver overlay)
    CMD[podman-cold]=$(cmdline "${PODMAN[@]}" pull -q --tls-verify=false "$REF")
    PREPARE[podman-cold]=$(cmdline "${PODMAN[@]}" rmi -f "$REF")
    CMD[podman-warm]=${CMD[podman-cold]}
    PREPARE[podman-warm]=true
}

setup_skopeo() {
    local skopeo
    skopeo=$(find_tool skopeo)
    [[ -n $skopeo ]] || { SKIP[skopeo]="skopeo not installed"; return; }
    CMD[skopeo]=$(cmdline "$skopeo" copy -q --src-tls-verify=false "docker://$REF" "oci:$SCRATCH/skopeo-out")
    PREPARE[skopeo]=$(cmdline rm -rf "$SCRATCH/skopeo-out")
}

print_table() {
    local json=$1 tool mean sd base
    printf '%-12s %10s %10s %12s\n' tool "mean ms" "stddev ms" "x podman"
    for tool in "${TOOLS[@]}"; do
        if [[ -n ${SKIP[$tool]:-} ]]; then
            printf '%-12s skipped: %s\n' "$tool" "${SKIP[$tool]}"
            continue
        fi
        read -r mean sd < <(jq -r --arg t "$tool" '.results[] | select(.command == $t) | "\(.mean) \(.stddev)"' "$json")
        base=""
        case $tool in
            burrow-cold) base=podman-cold ;;
            burrow-warm) base=podman-warm ;;
        esac
        local ratio=""
        if [[ -n $base && -z ${SKIP[$base]:-} ]]; then
            ratio=$(jq -r --arg t "$base" --argjson m "$mean" '.results[] | select(.command == $t) | $m / .mean' "$json")
        fi
        awk -v t="$tool" -v m="$mean" -v s="$sd" -v r="$ratio" \
            'BEGIN { printf "%-12s %10.1f %10.1f %12s\n", t, m * 1000, s * 1000, (r == "" ? "" : sprintf("%.2fx", r)) }'
    done
}

main_user() {
    ((BOTH_USERS)) && die "--both-users switches between two test users, so it must be started as root"
    command -v hyperfine >/dev/null || die "hyperfine is not installed"
    command -v jq >/dev/null || die "jq is not installed"
    [[ -x $BURROW ]] || die "no burrow at $BURROW (build it with scripts/build.sh)"
    [[ -r $IMAGE ]] || die "cannot read the image $IMAGE"
    make_scratch
    print_header "pull from a loopback registry"
    start_registry
    setup_burrow
    setup_podman
    setup_skopeo
    local tool names=() cmds=() prepares=()
    for tool in "${TOOLS[@]}"; do
        [[ -n ${SKIP[$tool]:-} ]] && continue
        # shellcheck disable=SC2086
        if ! eval smoke "${CMD[$tool]}"; then
            SKIP[$tool]=$REASON
            continue
        fi
        names+=(-n "$tool")
        cmds+=("${CMD[$tool]}")
        prepares+=("${PREPARE[$tool]}")
    done
    sync
    sleep 2
    local json=$SCRATCH/hyperfine.json style=(--style basic) i
    ((QUIET)) && style=(--style none)
    local hf=(hyperfine -N "${style[@]}" --runs "$RUNS" --warmup "$WARMUP" --export-json "$json")
    for ((i = 0; i < ${#cmds[@]}; i++)); do
        hf+=("${names[2 * i]}" "${names[2 * i + 1]}" --prepare "${prepares[i]}")
    done
    "${hf[@]}" "${cmds[@]}"
    echo
    print_table "$json"
    for note in ${NOTES[@]+"${NOTES[@]}"}; do echo "note: $note"; done
    echo "target: burrow-cold faster than podman-cold; burrow-warm near-instant"
}

parse_args "$@"
if [[ $(id -u) -eq 0 ]]; then
    main_root
else
    main_user
fi
