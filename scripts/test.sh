#!/usr/bin/env bash
# Runs every test: installs what the build and the tests need, creates the
# unprivileged test users (one with a subordinate id range, one without, one
# with a range too small), builds the release binary, and runs the unit and
# integration tests. The container path is only ever exercised as those users.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$REPO"

require_swift
install_packages $BUILD_PACKAGES $RUN_PACKAGES $TEST_PACKAGES

# BURROW_TEST_TAG gives a second checkout users and stores of its own, so
# two test runs on one machine do not see each other's containers.
TAG=${BURROW_TEST_TAG:-}
SUB=burrow-sub$TAG NOSUB=burrow-nosub$TAG SMALL=burrow-small$TAG
say "creating the test users"
ensure_user "$SUB" 65536
ensure_user "$NOSUB" 0
ensure_user "$SMALL" 1000
open_devices

FIXTURES=${BURROW_FIXTURES:-$REPO/../shared/images}
[ -f "$FIXTURES/busybox.oci.tar" ] || die "the fixture images are not in $FIXTURES: set BURROW_FIXTURES to the folder holding busybox.oci.tar"
FIXTURES=$(cd "$FIXTURES" && pwd)

say "building the release binary"
./scripts/build.sh
# The test users run the binary: every directory above it must let them in.
dir=$REPO/.build/release
while [ "$dir" != / ]; do
    [ -x "$dir" ] || die "$dir is not searchable by other users: move the checkout or chmod o+x it"
    dir=$(dirname "$dir")
done

say "building the tests"
swift build --build-tests

say "running the tests"
cleanup() {
    as_root rm -rf "/tmp/burrow-it-$SUB-"* "/tmp/burrow-it-$NOSUB-"* "/tmp/burrow-it-cp-$SUB-"* "/tmp/burrow-it-cp-$NOSUB-"* 2>/dev/null || true
    [ -n "$TAG" ] || as_root rm -rf /tmp/burrow-it-archive-* 2>/dev/null || true
}
trap cleanup EXIT
cleanup
as_root env PATH="$PATH" \
    BURROW_TEST_USERS="$SUB:subordinate,$NOSUB:single" \
    BURROW_TEST_SMALL_RANGE_USER="$SMALL" \
    BURROW_FIXTURES="$FIXTURES" \
    BURROW_BINARY="$REPO/.build/release/burrow" \
    swift test --skip-build "$@"
