#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while: scripts/fuzz.sh <target> <seconds>   (targets: parse, compat, registry, http)
#
# Uses the stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z sanitizer flags). New inputs go to
# fuzz/corpus/<target>; the checked-in seeds in fuzz/seeds/<target> start it off; crashes land in fuzz/artifacts.
# An input that runs past 60 s counts as a crash (a hang), rather than after libFuzzer's default of 20 minutes.
set -euo pipefail

target=${1:?usage: scripts/fuzz.sh <target> <seconds>}
seconds=${2:?usage: scripts/fuzz.sh <target> <seconds>}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd "$root/fuzz"
mkdir -p "corpus/$target"
RUSTC_BOOTSTRAP=1 cargo +stable fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=60
