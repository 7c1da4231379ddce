# Shared by demo.sh and test.sh: install missing Debian packages, configure and build.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MIXI_BUILD_DIR:-$ROOT/build}"
SAN_BUILD="${MIXI_SAN_BUILD_DIR:-$ROOT/build-san}"

# Debian 12 packages the build and the tests need.
PACKAGES=(
    g++ cmake make pkg-config
    libxapian-dev xapian-tools libicu-dev libexttextcat-dev libgumbo-dev zlib1g-dev libjemalloc-dev libsqlite3-dev libpq-dev libmaxminddb-dev libssl-dev libzstd-dev
    libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
    libtomlplusplus-dev
    libgtest-dev libbenchmark-dev
)
# The tests of the PostgreSQL analytics store run against a throwaway cluster of this server
# (start_test_postgres); the build, the demo and a single server need only libpq.
POSTGRES_TEST_PACKAGES=(postgresql-15)
POSTGRES_BIN=/usr/lib/postgresql/15/bin
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

# A throwaway PostgreSQL cluster for the tests: its own data directory under /tmp, port
# MIXI_TEST_POSTGRES_PORT (55432; the next free one of the 10 after it when that is taken), listening on 127.0.0.1 and a socket in that directory only,
# run by a user who is not root (initdb refuses root: the postgres user the package made, when
# this script runs as root). Exports MIXI_TEST_POSTGRES (a URI the tests create their databases
# through) and MIXI_TEST_POSTGRES_CTL (a command taking stop or start, for the tests that stop
# the database in the middle of a run). stop_test_postgres stops it and removes the directory;
# start_test_postgres sets a trap that does so at exit.
start_test_postgres() {
    ensure_packages "${POSTGRES_TEST_PACKAGES[@]}"
    local port="${MIXI_TEST_POSTGRES_PORT:-55432}" as=() try
    MIXI_PG_DIR="$(mktemp -d /tmp/mixi-test-postgres.XXXXXX)"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$MIXI_PG_DIR"
        as=(runuser -u postgres --)
    fi
    chmod 700 "$MIXI_PG_DIR"
    "${as[@]}" "$POSTGRES_BIN/initdb" -D "$MIXI_PG_DIR/data" -U mixi --auth=trust --no-locale \
        -E UTF8 >"$MIXI_PG_DIR/initdb.log" 2>&1 || {
        cat "$MIXI_PG_DIR/initdb.log" >&2
        rm -rf "$MIXI_PG_DIR"
        return 1
    }
    # The port, or the next ones when another cluster (another checkout's tests) has it.
    for ((try = 0; try < 10; try++)); do
        cat >"$MIXI_PG_DIR/ctl" <<CTL
#!/bin/sh
# stop | start the tests' PostgreSQL cluster
exec ${as[*]} $POSTGRES_BIN/pg_ctl -D $MIXI_PG_DIR/data -l $MIXI_PG_DIR/log -w -t 30 \\
    -o "-c listen_addresses=127.0.0.1 -p $port -k $MIXI_PG_DIR -c fsync=off -c max_connections=200" -m fast "\$1" >/dev/null
CTL
        chmod 755 "$MIXI_PG_DIR/ctl"
        if "$MIXI_PG_DIR/ctl" start 2>/dev/null; then
            trap stop_test_postgres EXIT
            export MIXI_TEST_POSTGRES="postgresql://mixi@127.0.0.1:$port/postgres"
            export MIXI_TEST_POSTGRES_CTL="$MIXI_PG_DIR/ctl"
            echo "== PostgreSQL for the tests at $MIXI_TEST_POSTGRES"
            return 0
        fi
        grep -q "already in use" "$MIXI_PG_DIR/log" 2>/dev/null || break
        : >"$MIXI_PG_DIR/log"
        port=$((port + 1))
    done
    cat "$MIXI_PG_DIR/log" >&2
    rm -rf "$MIXI_PG_DIR"
    MIXI_PG_DIR=
    return 1
}

stop_test_postgres() {
    [ -n "${MIXI_PG_DIR:-}" ] || return 0
    "$MIXI_PG_DIR/ctl" stop 2>/dev/null || true
    rm -rf "$MIXI_PG_DIR"
    MIXI_PG_DIR=
}
