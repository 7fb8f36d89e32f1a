#!/usr/bin/env bash
# Runs every cargo-fuzz target for a while, one after another: scripts/fuzz-all.sh <seconds per target>
#
# The targets are built first, one after another (each link of an instrumented binary takes a few GiB of memory;
# linking all four at once has failed on a small machine), then each runs as scripts/fuzz.sh runs it (seeds from
# fuzz/seeds/<target>, new inputs kept in fuzz/corpus/<target>). A crash stops the script with its report and the
# input in fuzz/artifacts/<target>; `cargo fuzz fmt <target> <input>` (in fuzz/) shows what an input does.
set -euo pipefail

seconds=${1:?usage: scripts/fuzz-all.sh <seconds per target>}
targets=(parse compat registry http)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

for target in "${targets[@]}"; do
    if ! (cd "$root/fuzz" && RUSTC_BOOTSTRAP=1 cargo +stable fuzz build "$target"); then
        # Say what the machine had when it failed, then try once more with one job at a time.
        df -h "$root/fuzz" || true
        free -m || true
        (cd "$root/fuzz" && RUSTC_BOOTSTRAP=1 CARGO_BUILD_JOBS=1 cargo +stable fuzz build "$target")
    fi
done
for target in "${targets[@]}"; do
    printf '\n==> fuzzing %s for %s s\n' "$target" "$seconds"
    "$root/scripts/fuzz.sh" "$target" "$seconds"
done
