#!/usr/bin/env bash
# bench/build.sh: the Docker tutorial's build (examples/hello-flask: FROM
# python:3.9-slim, COPY, RUN pip install, ...) by burrow next to rootless
# podman (buildah) in ONE hyperfine run per case, with the ratio podman/burrow.
#
# 1. cold: every step runs (--no-cache), the base image already loaded;
#    pip install fetches flask from PyPI each time, so the network's speed
#    is in both rows alike.
# 2. unchanged: the same build again, every step from the cache.
#
# Both tools trust the host's CA bundle in RUN steps (this machine may sit
# behind a TLS-intercepting proxy): burrow by default (--host-ca), podman by
# the bind a user would add by hand (-v BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro).
# Podman runs rootless with a private --root/--runroot, cgroupfs, file events,
# --pull=never and native overlay storage, as in bench/lifecycle.sh.
#
# Usage: bench/build.sh [--burrow PATH] [--runs N] [--warmup N]
#                       [--image FILE] [--quiet] [--both-users]
#   env:  BURROW, BENCH_RUNS (10, the unchanged case), BENCH_COLD_RUNS (3),
#         BENCH_WARMUP (1), BENCH_IMAGE (python-slim.oci.tar),
#         BENCH_USER (the user to become when started as root)
#
# Targets (issue #5): cold no slower than podman's; unchanged under 0.3 s
# and 5x faster than podman's.

set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)

BURROW=${BURROW:-$REPO/.build/release/burrow}
RUNS=${BENCH_RUNS:-10}
COLD_RUNS=${BENCH_COLD_RUNS:-3}
WARMUP=${BENCH_WARMUP:-1}
IMAGE=${BENCH_IMAGE:-$REPO/../shared/images/python-slim.oci.tar}
BOTH_USERS=0
QUIET=0

# shellcheck source=lib.sh
source "$REPO/bench/lib.sh"

declare -A SKIP=()

cleanup_tools() {
    [[ -x $BURROW && -d $SCRATCH/burrow ]] && "$BURROW" rmi -f bench-app python:3.9-slim >/dev/null 2>&1
    return 0
}

setup_burrow() {
    [[ -x $BURROW ]] || { SKIP[burrow]="no executable at $BURROW"; return; }
    export BURROW_ROOT=$SCRATCH/burrow
    local err
    if ! err=$("$BURROW" load -q -i "$IMAGE" 2>&1 >/dev/null); then
        SKIP[burrow]="burrow load failed: $(tail -n1 <<<"$err")"
        return
    fi
    smoke "$BURROW" build -q -t bench-app "$CONTEXT" || SKIP[burrow]=$REASON
}

setup_podman() {
    if ! setup_private_podman; then
        SKIP[podman]=$REASON
        return
    fi
    local bundle
    for bundle in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
        [[ -r $bundle ]] && break
    done
    PODMAN_BUILD=("${PODMAN[@]}" build --pull=never -q -t bench-app)
    [[ -r $bundle ]] && PODMAN_BUILD+=(-v "$bundle:/etc/ssl/certs/ca-certificates.crt:ro")
    # podman load names it localhost/python:3.9-slim; the Dockerfile says python:3.9-slim.
    "${PODMAN[@]}" tag localhost/python:3.9-slim docker.io/library/python:3.9-slim >/dev/null 2>&1 || true
    smoke "${PODMAN_BUILD[@]}" "$CONTEXT" || SKIP[podman]=$REASON
}

# One hyperfine run: CASE RUNS [--no-cache]; prints the table and the ratio.
measure() {
    local name=$1 runs=$2 extra=("${@:3}") args=() json=$SCRATCH/$1.json
    [[ -z ${SKIP[burrow]:-} ]] && args+=(-n burrow "$(cmdline "$BURROW" build -q "${extra[@]}" -t bench-app "$CONTEXT")")
    [[ -z ${SKIP[podman]:-} ]] && args+=(-n podman "$(cmdline "${PODMAN_BUILD[@]}" "${extra[@]}" "$CONTEXT")")
    ((${#args[@]})) || { echo "$name: nothing to measure"; return; }
    if ((QUIET)); then
        hyperfine -N --runs "$runs" --warmup "$WARMUP" --export-json "$json" "${args[@]}" >/dev/null
    else
        hyperfine -N --runs "$runs" --warmup "$WARMUP" --export-json "$json" "${args[@]}"
    fi
    echo "-- $name --"
    jq -r '.results[] | "\(.command) \(.mean) \(.stddev)"' "$json" |
        awk '{ printf "%-8s %10.3f s %10.3f s\n", $1, $2, $3; m[$1] = $2 }
             END { if (m["burrow"] && m["podman"]) printf "podman/burrow: %.2fx\n", m["podman"] / m["burrow"]
                   if (m["burrow"]) printf "burrow mean: %.3f s\n", m["burrow"] }'
    local tool
    for tool in burrow podman; do [[ -n ${SKIP[$tool]:-} ]] && echo "$tool skipped: ${SKIP[$tool]}"; done
    echo
}

main_user() {
    command -v hyperfine >/dev/null || die "hyperfine is needed (apt-get install hyperfine)"
    command -v jq >/dev/null || die "jq is needed"
    make_scratch
    CONTEXT=$SCRATCH/hello-flask
    cp -r "$REPO/examples/hello-flask" "$CONTEXT"
    setup_burrow
    setup_podman
    print_header "burrow build vs podman build (examples/hello-flask)" "cold runs $COLD_RUNS, unchanged runs $RUNS"
    local note
    for note in ${NOTES[@]+"${NOTES[@]}"}; do echo "note: $note"; done
    measure cold "$COLD_RUNS" --no-cache
    measure unchanged "$RUNS"
    echo "targets: cold no slower than podman's; unchanged under 0.3 s and 5x faster than podman's"
}

parse_args "$@"
if [[ $(id -u) -eq 0 ]]; then
    main_root
else
    main_user
fi
