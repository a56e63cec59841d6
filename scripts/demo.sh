#!/usr/bin/env bash
# The main job, end to end, on a fresh Debian 12 machine: installs what is
# needed, builds burrow, makes a Debian base image with Python from the apt
# mirror this machine already uses (mmdebstrap), imports it, and runs Python
# in a container as an unprivileged user. Run again, it reuses the image.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$REPO"

require_swift
install_packages $BUILD_PACKAGES $RUN_PACKAGES $DEMO_PACKAGES

say "building burrow"
./scripts/build.sh
BURROW=$REPO/.build/release/burrow

# The container runs as an ordinary user: you, or a demo user when this
# script runs as root.
if [ "$(id -u)" -eq 0 ]; then
    DEMO_USER=burrow-demo
    id "$DEMO_USER" >/dev/null 2>&1 || { say "creating the unprivileged user $DEMO_USER"; ensure_user "$DEMO_USER" 65536; }
    as_user() { setpriv --reuid="$DEMO_USER" --regid="$DEMO_USER" --init-groups -- \
        env -i HOME="$(getent passwd "$DEMO_USER" | cut -d: -f6)" USER="$DEMO_USER" PATH=/usr/bin:/bin "$@"; }
else
    DEMO_USER=$(id -un)
    as_user() { "$@"; }
fi

# The base image: Debian 12 (minbase) with Python, from this machine's own
# apt sources, as a root filesystem tarball.
IMAGE_TAR=/var/tmp/burrow-demo/debian-python.tar
if [ ! -f "$IMAGE_TAR" ] || [ ! -s "$IMAGE_TAR" ]; then
    say "making a Debian 12 + Python root filesystem with mmdebstrap (a minute or two)"
    sources=()
    for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        [ -s "$file" ] && sources+=("$file")
    done
    as_root rm -rf "$IMAGE_TAR" "$IMAGE_TAR.part"
    as_root mkdir -p "$(dirname "$IMAGE_TAR")"
    as_root mmdebstrap --quiet --format=tar --variant=minbase --include=python3,ca-certificates \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        bookworm "$IMAGE_TAR.part" "${sources[@]}"
    as_root mv "$IMAGE_TAR.part" "$IMAGE_TAR"
    as_root chmod 0644 "$IMAGE_TAR"
fi

if [ -z "$(as_user "$BURROW" images -q localhost/debian-python:12)" ]; then
    say "importing it as localhost/debian-python:12 (as $DEMO_USER)"
    as_user "$BURROW" import "$IMAGE_TAR" localhost/debian-python:12 >/dev/null
fi
as_user "$BURROW" images

say "running Python in a rootless container (as $DEMO_USER)"
as_user "$BURROW" run --rm localhost/debian-python:12 python3 -c '
import os, platform
print("Hello from Python", platform.python_version(), "on Debian", open("/etc/debian_version").read().strip())
print("uid inside the container:", os.getuid(), "- uid map:", " ".join(open("/proc/self/uid_map").read().split()))
print("6 * 7 =", 6 * 7)'
