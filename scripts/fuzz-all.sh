#!/usr/bin/env bash
# Runs every cargo-fuzz target for a while, one after another: scripts/fuzz-all.sh <seconds per target>
#
# The targets are built once, together, first; each then runs as scripts/fuzz.sh runs it (seeds from
# fuzz/seeds/<target>, new inputs kept in fuzz/corpus/<target>). A crash stops the script with its report and the
# input in fuzz/artifacts/<target>; `cargo fuzz fmt <target> <input>` (in fuzz/) shows what an input does.
set -euo pipefail

seconds=${1:?usage: scripts/fuzz-all.sh <seconds per target>}
targets=(parse compat registry http)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

(cd "$root/fuzz" && RUSTC_BOOTSTRAP=1 cargo +stable fuzz build)
for target in "${targets[@]}"; do
    printf '\n==> fuzzing %s for %s s\n' "$target" "$seconds"
    "$root/scripts/fuzz.sh" "$target" "$seconds"
done
