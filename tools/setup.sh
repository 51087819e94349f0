#!/usr/bin/env bash
# The two set-up commands of the README. Run from anywhere, as root on Debian 12:
#   tools/setup.sh demo   install what is missing, build, start the embedded default mesh
#   tools/setup.sh test   install what is missing, build, run every test (the console's in
#                         headless Chromium), then the
#                         AddressSanitizer + UndefinedBehaviorSanitizer build of the tests,
#                         the ThreadSanitizer build of the unit and actor tests and of a
#                         4-worker sidecar under churn and mixed load, a 2-minute soak, then
#                         every fuzz target briefly
# Both are idempotent: installed packages are skipped and builds are incremental (ccache).
set -Eeuo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
case "$mode" in
  demo|test|build) ;;
  *) echo "usage: tools/setup.sh demo|test|build" >&2; exit 2 ;;
esac

packages=(
  build-essential cmake ninja-build pkg-config ccache python3 curl ca-certificates clang-format
  libcaf-dev libhttp-parser-dev libyaml-cpp-dev prometheus-cpp-dev catch2 libre2-dev liburing-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libcurl4-openssl-dev
  etcd-server etcd-client libnghttp2-dev nghttp2-client nghttp2-server libbenchmark-dev
  python3-h2 openssl libssl-dev clang-14 libfuzzer-14-dev libclang-rt-14-dev
  iptables iproute2 python3-yaml python3-kubernetes systemd prometheus chromium
)
# kubectl checks the Kubernetes manifests client-side: Debian's, unless one is installed.
command -v kubectl >/dev/null || packages+=(kubernetes-client)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ccache hits across checkouts (a CI clone, a second work tree): paths under the checkout are
# hashed relative to it.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1

# build DIR [cmake options...] [-- targets...]
build() {
  local dir=$1 options=() targets=()
  shift
  while (($#)) && [ "$1" != -- ]; do options+=("$1"); shift; done
  (($#)) && shift && targets=("$@")
  cmake -S "$root" -B "$root/$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}" >/dev/null
  ninja -C "$root/$dir" "${targets[@]}"
}

install_missing
build build

case "$mode" in
  build) ;;
  demo)
    echo "setup: starting the demo mesh; try: curl -x http://127.0.0.1:15001 http://echo/hello"
    exec "$root/build/tools/actormesh" demo
    ;;
  test)
    echo "setup: checking that the code follows .clang-format"
    (cd "$root" && find actors config federation lb net policy proto tests tools \
      \( -name '*.cpp' -o -name '*.h' \) -print0 | xargs -0 clang-format --dry-run --Werror)
    ctest --test-dir "$root/build" --output-on-failure --timeout 600
    echo "setup: the same tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    build build-asan -DACTORMESH_SANITIZE=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir "$root/build-asan" --output-on-failure --timeout 900
    echo "setup: ThreadSanitizer: the unit and actor tests, and a 4-worker sidecar (build-tsan/)"
    build build-tsan -DACTORMESH_TSAN=ON -- unit_tests actor_tests actormesh-sidecar
    # history_size=7: the stack of the earlier access is kept long enough to be matched.
    export TSAN_OPTIONS="halt_on_error=1 history_size=7 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp"
    "$root/build-tsan/tests/unit_tests"
    "$root/build-tsan/tests/actor_tests"
    # The stress test: live config and endpoint edits under HTTP/1.1, h2c and gRPC load
    # through a 4-worker sidecar of this build (control plane and clients: the plain build's).
    /usr/bin/python3 "$root/tests/integration/test_faults.py" --binary "$root/build/tools/actormesh" \
      --sidecar-binary "$root/build-tsan/tools/actormesh-sidecar" --sanitized -k live_edits
    unset TSAN_OPTIONS
    echo "setup: a 2-minute soak (tools/bench/soak.sh)"
    "$root/tools/bench/soak.sh" 2
    # A fixed seed: the suite replays the regression inputs and explores the same way on every
    # run, so a red run means a change broke something, not that this run was lucky. Finding
    # new bugs is the long runs' job (tools/fuzz.sh TARGET SECONDS, random seeds).
    echo "setup: every libFuzzer target for 20 s, seed 1 (clang, build-fuzz/)"
    FUZZ_SEED=1 "$root/tools/fuzz.sh" all 20
    ;;
esac
