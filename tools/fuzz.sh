#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS (tests/fuzz/TARGET_fuzz.cpp), from its seed corpus in
# tests/fuzz/corpus/TARGET, building build-fuzz/ with clang first when needed. New inputs go
# to build-fuzz/corpus/TARGET (the seeds stay as they are); a crash is written to
# build-fuzz/artifacts/ and the run exits non-zero. `all` runs every target in turn.
# FUZZ_SEED=N fixes libFuzzer's seed (the CI run does; by default each run draws its own).
# Usage: tools/fuzz.sh TARGET|all SECONDS
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: tools/fuzz.sh TARGET|all SECONDS}
seconds=${2:?usage: tools/fuzz.sh TARGET|all SECONDS}
targets=(http1 h2 config external_json header_values sniff)
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
if [ ! -f "$root/build-fuzz/build.ninja" ]; then
  CXX=clang++-14 cmake -S "$root" -B "$root/build-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DACTORMESH_FUZZ=ON >/dev/null
fi
ninja -C "$root/build-fuzz" >/dev/null
[[ $target == all ]] || targets=("$target")
mkdir -p "$root/build-fuzz/artifacts"
for t in "${targets[@]}"; do
  [ -d "$root/tests/fuzz/corpus/$t" ] || { echo "fuzz.sh: no target $t (${targets[*]})" >&2; exit 2; }
  mkdir -p "$root/build-fuzz/corpus/$t"
  log=$root/build-fuzz/fuzz-$t.log
  if ! ASAN_OPTIONS=detect_leaks=1 "$root/build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -seed="${FUZZ_SEED:-0}" \
      -artifact_prefix="$root/build-fuzz/artifacts/$t-" \
      "$root/build-fuzz/corpus/$t" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz.sh: $t found a crash (build-fuzz/artifacts/$t-*)" >&2
    exit 1
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  echo "fuzz.sh: $t: $runs executions in $seconds s, no crash"
done
