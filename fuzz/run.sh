#!/usr/bin/env bash
# Runs every fuzz target for a fixed time (default 600 s each) from the seeds in fuzz/seeds,
# and fails if any finds a crash (a panic, an abort, a memory error or running out of memory).
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(npz extxyz split_json config)
export TMPDIR="${TMPDIR:-/dev/shm}"   # the loaders read files: keep them in memory
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: $seconds s"
    cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
done
echo "== no crashes in ${#targets[@]} targets × $seconds s"
