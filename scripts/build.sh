#!/usr/bin/env bash
# Builds the release binary: fully static, because start-up time is the
# product and a static executable skips the dynamic loader. The linker's
# notes about static glibc are expected: burrow calls no NSS function.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib -Xswiftc -static-executable "$@" 2>&1 \
    | { grep -v -e "statically linked applications requires at runtime" -e "is dangerous, better use" || true; }
