#!/usr/bin/env bash
# The Docker tutorial, end to end, on a fresh Debian 12 machine, as an
# unprivileged user: installs what is needed, builds burrow, gets a
# python:3.9-slim base (pulled from Docker Hub when it is reachable, made with
# mmdebstrap from the apt mirror this machine already uses when not), builds
# examples/hello-flask, runs it with -p 4000:80, fetches the page and stops
# the container. Run again, it reuses the base image and the build cache.
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

# The base image: pulled from the registry, as `docker build` would. Where no
# registry is reachable, an equivalent one is made instead: Debian 12
# (minbase) with Python, pip and `python` on PATH, from this machine's own apt
# sources, as a root filesystem tarball (as the official slim image does, pip
# may install into the system Python).
if [ -z "$(as_user "$BURROW" images -q python:3.9-slim)" ]; then
    say "burrow pull python:3.9-slim (as $DEMO_USER)"
    if pulled=$(as_user timeout 120 "$BURROW" pull -q python:3.9-slim 2>&1); then
        say "pulled python:3.9-slim: $pulled"
    else
        say "could not pull python:3.9-slim (${pulled##*$'\n'})"
    fi
fi
IMAGE_TAR=/var/tmp/burrow-demo/python-3.9-slim.tar
if [ -z "$(as_user "$BURROW" images -q python:3.9-slim)" ] && { [ ! -f "$IMAGE_TAR" ] || [ ! -s "$IMAGE_TAR" ]; }; then
    say "no registry to pull python:3.9-slim from: making an equivalent Debian 12 + Python image with mmdebstrap (a minute or two)"
    sources=()
    for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        [ -s "$file" ] && sources+=("$file")
    done
    as_root rm -rf "$IMAGE_TAR" "$IMAGE_TAR.part"
    as_root mkdir -p "$(dirname "$IMAGE_TAR")"
    as_root mmdebstrap --quiet --format=tar --variant=minbase \
        --include=python3,python3-pip,python-is-python3,ca-certificates \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
        bookworm "$IMAGE_TAR.part" "${sources[@]}"
    as_root mv "$IMAGE_TAR.part" "$IMAGE_TAR"
    as_root chmod 0644 "$IMAGE_TAR"
fi

if [ -z "$(as_user "$BURROW" images -q python:3.9-slim)" ]; then
    say "importing it as python:3.9-slim (as $DEMO_USER)"
    as_user "$BURROW" import "$IMAGE_TAR" python:3.9-slim >/dev/null
fi

# The Docker tutorial's app. The build reads it as the demo user, who may
# not reach this checkout: then it reads a copy.
APP=examples/hello-flask
if ! as_user test -r "$REPO/$APP/Dockerfile"; then
    APP=/var/tmp/burrow-demo/hello-flask
    as_root rm -rf "$APP" && as_root cp -r "$REPO/examples/hello-flask" "$APP" && as_root chmod -R a+rX "$APP"
fi
say "burrow build -t my-python-app $APP (as $DEMO_USER; pip reaches PyPI through the userspace network)"
as_user "$BURROW" build -t my-python-app "$APP"
as_user "$BURROW" images

say "burrow run -d -p 4000:80 my-python-app (as $DEMO_USER)"
as_user "$BURROW" rm -f hello-flask >/dev/null 2>&1 || true
trap 'as_user "$BURROW" rm -f hello-flask >/dev/null 2>&1 || true' EXIT
as_user "$BURROW" run -d --name hello-flask -p 4000:80 my-python-app >/dev/null
answer=""
for _ in $(seq 1 60); do
    answer=$(curl -fsS --max-time 2 http://localhost:4000 2>/dev/null) && break
    sleep 0.5
done
[ -n "$answer" ] || { as_user "$BURROW" logs hello-flask >&2 || true; die "the app did not answer on http://localhost:4000"; }
say "curl http://localhost:4000 says:"
echo "$answer"
say "stopping the container"
as_user "$BURROW" stop hello-flask >/dev/null
as_user "$BURROW" rm hello-flask >/dev/null
trap - EXIT
