#!/usr/bin/env bash
# Builds the release binaries: burrow fully static (Package.swift), because
# start-up time is the product and a static executable skips the dynamic
# loader; burrow-net beside it, linked to Debian's libslirp. The linker's
# notes about static glibc are expected: burrow calls no NSS function.
# burrow-net is C: SwiftPM links every executable with the Swift runtime and
# libstdc++, 2 MB of memory for each running container, so it is linked again
# here by the C compiler alone.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib "$@" 2>&1 \
    | { grep -v -e "statically linked applications requires at runtime" -e "is dangerous, better use" || true; }
release=$(swift build -c release --static-swift-stdlib --show-bin-path)
gcc -O2 -Wall -pthread -o "$release/burrow-net.new" Sources/burrow-net/*.c -lslirp
mv -f "$release/burrow-net.new" "$release/burrow-net"
