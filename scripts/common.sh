# Shared by the project's scripts: where things are, and how to get the
# Debian packages a step needs. Sourced, not run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

# What each step needs, from Debian 12.
BUILD_PACKAGES="gcc pkg-config libslirp-dev libarchive-dev libssl-dev libzstd-dev zlib1g-dev liblzma-dev libbz2-dev"
RUN_PACKAGES="uidmap util-linux libslirp0"
TEST_PACKAGES="gzip zstd tar passwd strace curl python3 iproute2 docker-registry apache2-utils openssl skopeo"
DEMO_PACKAGES="mmdebstrap ca-certificates curl"
BENCH_PACKAGES="hyperfine bubblewrap crun podman jq time iperf3 slirp4netns passt python3 docker-registry skopeo"

say() {
    if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly, or through sudo for an ordinary user.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs whichever of the named packages are missing.
install_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

require_swift() {
    command -v swift >/dev/null || die "the Swift toolchain is not on PATH (expected at /opt/swift/usr/bin): install Swift 6.3 for Debian 12 from swift.org"
}

# A user with a subordinate id range of $2 ids (0: none at all).
ensure_user() {
    local name=$1 count=$2
    id "$name" >/dev/null 2>&1 || as_root useradd --create-home --shell /bin/bash "$name"
    as_root chmod 700 "$(getent passwd "$name" | cut -d: -f6)"
    # A range already as asked stays where it is: moving it would orphan the
    # files of the user's store, which belong to the old range.
    if [ "$count" -gt 0 ] && [ "$(grep -c "^$name:[0-9]*:$count\$" /etc/subuid)" = 1 ] &&
        [ "$(grep "^$name:" /etc/subuid)" = "$(grep "^$name:" /etc/subgid)" ]; then
        return 0
    fi
    if [ "$count" -eq 0 ] && ! grep -q "^$name:" /etc/subuid /etc/subgid; then
        return 0
    fi
    # Drop whatever useradd assigned, then give exactly the range asked for.
    as_root sed -i "/^$name:/d" /etc/subuid /etc/subgid
    if [ "$count" -gt 0 ]; then
        local start
        start=$(awk -F: 'BEGIN { end = 100000 } { if ($2 + $3 > end) end = $2 + $3 } END { print end }' /etc/subuid /etc/subgid)
        echo "$name:$start:$count" | as_root tee -a /etc/subuid >/dev/null
        echo "$name:$start:$count" | as_root tee -a /etc/subgid >/dev/null
    fi
}

# A workstation gives every user these devices; CI machines often do not.
open_devices() {
    [ -e /dev/net/tun ] || { as_root mkdir -p /dev/net && as_root mknod -m 0666 /dev/net/tun c 10 200; }
    [ -e /dev/fuse ] || as_root mknod -m 0666 /dev/fuse c 10 229
    as_root chmod 0666 /dev/net/tun /dev/fuse
}
