#!/usr/bin/env bash
# Builds the release binaries: burrow fully static (Package.swift), because
# start-up time is the product and a static executable skips the dynamic
# loader; burrow-net beside it, linked to Debian's libslirp. The linker's
# notes about static glibc are expected: burrow calls no NSS function.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib "$@" 2>&1 \
    | { grep -v -e "statically linked applications requires at runtime" -e "is dangerous, better use" || true; }
