#!/usr/bin/env bash
# A full disk under the real binary (tests/diskfull): the data directory on a small tmpfs, filled up while the
# server runs. Mounting needs root; otherwise the script runs itself again in a user and mount namespace of its
# own (`unshare`), where mounting a tmpfs is allowed. Exits non-zero when a check fails, or when neither works.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if [[ $(id -u) -ne 0 ]]; then
    if [[ -z ${REGISTRY_IN_NAMESPACE:-} ]] && command -v unshare >/dev/null; then
        exec env REGISTRY_IN_NAMESPACE=1 unshare --user --map-root-user --mount "$0" "$@"
    fi
    echo "disk-full test: mounting a tmpfs needs root or unprivileged user namespaces (unshare); neither works here" >&2
    exit 1
fi

setup_venv
build_server
DISK="$(mktemp -d)"
OUT="$(mktemp)"
mount -t tmpfs -o size=16m registry-disk-full "$DISK"
trap 'umount "$DISK" 2>/dev/null || umount -l "$DISK"; rmdir "$DISK"; rm -f "$OUT"' EXIT
step "a full disk: writes refused, reads served, writes resumed once space is freed (tests/diskfull)"
REGISTRY_BIN="$BIN" REGISTRY_DISK="$DISK" run_pytest "$OUT" -s "$ROOT/tests/diskfull"
