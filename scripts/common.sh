# Shared by demo.sh and test.sh: install missing Debian packages, configure and build.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MIXI_BUILD_DIR:-$ROOT/build}"
SAN_BUILD="${MIXI_SAN_BUILD_DIR:-$ROOT/build-san}"

# Debian 12 packages the build and the tests need.
PACKAGES=(
    g++ cmake make pkg-config
    libxapian-dev xapian-tools libicu-dev libexttextcat-dev libgumbo-dev zlib1g-dev libjemalloc-dev libsqlite3-dev libmaxminddb-dev libssl-dev libzstd-dev
    libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
    libtomlplusplus-dev
    libgtest-dev libbenchmark-dev
)
# And for the sanitizer and fuzzing build (build_sanitized): clang 16 (clang 14 cannot compile
# libstdc++'s std::expected), its sanitizer and libFuzzer runtimes, and llvm-symbolizer.
SANITIZER_PACKAGES=(clang-16 libclang-rt-16-dev llvm-16)

ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "mixi-search: these Debian packages are missing: ${missing[*]}" >&2
        echo "Install them as root (sudo apt-get install ${missing[*]}) or run this script as root." >&2
        exit 1
    fi
    echo "== installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
    ensure_packages "${PACKAGES[@]}"
    if [ ! -f "$BUILD/CMakeCache.txt" ]; then
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "$@"
    fi
    cmake --build "$BUILD" -j2
}

# The browser tests: Debian's chromium, and playwright-core (pinned in tests/browser's
# package-lock.json) from the npm registry with the machine's Node.js (20 or later).
ensure_browser_test_tools() {
    ensure_packages chromium fonts-ipafont-gothic # a Japanese font, for readable screenshots
    command -v npm >/dev/null || ensure_packages nodejs npm
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
}

# The AddressSanitizer + UndefinedBehaviorSanitizer build with the libFuzzer targets, in
# build-san/ (docs/robustness.md): clang 16, -O1, no jemalloc, no benchmarks.
build_sanitized() {
    ensure_packages "${PACKAGES[@]}" "${SANITIZER_PACKAGES[@]}"
    if [ ! -f "$SAN_BUILD/CMakeCache.txt" ]; then
        cmake -S "$ROOT" -B "$SAN_BUILD" -DCMAKE_CXX_COMPILER=clang++-16 \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
            -DMIXI_FUZZ=ON -DMIXI_BUILD_BENCH=OFF
    fi
    cmake --build "$SAN_BUILD" -j2
}
