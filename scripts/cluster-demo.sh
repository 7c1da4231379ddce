#!/usr/bin/env bash
# A small cluster on this machine, as docs/scale-out.md draws it for many machines:
#   - PostgreSQL: a throwaway cluster of its own (127.0.0.1:55433, removed at the end), the one
#     analytics store of both search servers;
#   - the index primary, var/cluster/primary (the bundled sample site), written by the CLI and
#     served by xapian-replicate-server on 127.0.0.1:7010;
#   - one replica per search server, var/cluster/replica-{1,2}, kept by xapian-replicate;
#   - two `mixi-search serve`, on 127.0.0.1:8081 and :8082, each over its replica, both over
#     the one database.
# Installs what is missing (as root), builds, starts everything, prints what to try, and stops
# everything on Ctrl-C. Each run starts from nothing (var/cluster is removed first).
# MIXI_CLUSTER_PORTS="8081 8082", MIXI_CLUSTER_PG_PORT=55433 and MIXI_CLUSTER_REPLICATION_PORT=7010
# pick other ports; MIXI_CLUSTER_SERVE=0 stops once everything has started (a smoke test).
set -euo pipefail
source "$(dirname "$0")/common.sh"
build
BIN="$BUILD/cli/mixi-search"
CLUSTER="$ROOT/var/cluster"
read -r -a PORTS <<<"${MIXI_CLUSTER_PORTS:-8081 8082}"
export MIXI_TEST_POSTGRES_PORT="${MIXI_CLUSTER_PG_PORT:-55433}"
REPLICATION_PORT="${MIXI_CLUSTER_REPLICATION_PORT:-7010}"
ADMIN_KEY="cluster-demo-admin-key-0123456789"
GEOIP="$ROOT/data/geoip/GeoIP2-Country-Test.mmdb"
# The writer keeps its last changesets, so that an update reaches the replicas as one.
export XAPIAN_MAX_CHANGESETS=100

rm -rf "$CLUSTER"
mkdir -p "$CLUSTER"

start_test_postgres # the throwaway cluster the tests use, on its own port
DATABASE="$MIXI_TEST_POSTGRES"
pids=()
stop_all() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    stop_test_postgres
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "== the index primary: the sample site (var/cluster/primary)"
"$BIN" index build --quiet --index "$CLUSTER/primary" --threads 2 "$ROOT/data/site" "$ROOT/data/sample.ndjson"
# Xapian's daemons run in sessions of their own (setsid): stopping them must not signal this script.
setsid xapian-replicate-server --interface 127.0.0.1 --port "$REPLICATION_PORT" "$CLUSTER/primary" \
    >"$CLUSTER/replicate-server.log" 2>&1 &
pids+=($!)

echo "== a replica for each search server (var/cluster/replica-N)"
for n in "${!PORTS[@]}"; do
    replica="$CLUSTER/replica-$((n + 1))"
    setsid xapian-replicate --host 127.0.0.1 --port "$REPLICATION_PORT" --master current --interval 1 \
        --reader-time 1 --quiet "$replica" >"$CLUSTER/replicate-$((n + 1)).log" 2>&1 &
    pids+=($!)
done
for n in "${!PORTS[@]}"; do
    for _ in $(seq 100); do [ -f "$CLUSTER/replica-$((n + 1))/XAPIANDB" ] && break; sleep 0.1; done
    [ -f "$CLUSTER/replica-$((n + 1))/XAPIANDB" ] || { echo "replica-$((n + 1)) did not arrive" >&2; exit 1; }
done

echo "== two search servers over their replicas and the one database"
for n in "${!PORTS[@]}"; do
    "$BIN" serve --address 127.0.0.1 --port "${PORTS[$n]}" --index "$CLUSTER/replica-$((n + 1))" \
        --data "$CLUSTER/data-$((n + 1))" --web-root "$ROOT/web" \
        --set "analytics.database=$DATABASE" --set "geoip.database=$GEOIP" \
        --set server.trusted_proxies=127.0.0.1 --set "auth.admin_keys=$ADMIN_KEY" \
        --set analytics.flush_interval_ms=1000 --set ranking.refresh_interval_ms=2000 \
        --set server.access_log=false >"$CLUSTER/serve-$((n + 1)).log" 2>&1 &
    pids+=($!)
done
for port in "${PORTS[@]}"; do
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server on :$port did not start" >&2; exit 1; }
done

A="http://127.0.0.1:${PORTS[0]}"
B="http://127.0.0.1:${PORTS[1]}"
cat <<EOF

== a cluster on one machine: $A and $B (Ctrl-C stops everything)

   Both servers search their own replica of var/cluster/primary and keep their analytics in
   $DATABASE (logs in var/cluster/*.log). Try:

   A page view counted by one server moves the ranking on the other (views are flushed every
   second, rankings refreshed every 2 s here):
     curl -s '$B/v1/search?q=apt&lang=en&per_page=3' | grep -o '"id":"[^"]*"'
     for i in \$(seq 30); do curl -s -X POST -H 'Content-Type: text/plain' -d '{"id":"en/debian-handbook/apt.html"}' '$A/v1/views'; done
     sleep 3; curl -s '$B/v1/search?q=apt&lang=en&per_page=3' | grep -o '"id":"[^"]*"'

   A report through either server is the same report: 12 searches from 12 networks, six through
   each server, pass the thresholds (k = 10 searches, k_distinct = 5 searchers) together:
     for i in \$(seq 0 11); do s=\$([ \$((i % 2)) = 0 ] && echo '$A' || echo '$B'); curl -s -o /dev/null -H "X-Forwarded-For: 81.2.\$((60 + i)).1" "\$s/v1/search?q=hiking"; done
     sleep 2
     curl -s -H 'Authorization: Bearer $ADMIN_KEY' '$A/v1/admin/reports/popular'
     curl -s -H 'Authorization: Bearer $ADMIN_KEY' '$B/v1/admin/reports/popular'

   An update on the primary reaches both replicas (about a second):
     echo '{"id":"n-1","url":"https://example.social/n-1","title":"Lantern festival","body":"Paper lanterns on the river.","lang":"en","type":"article","visibility":"public"}' > /tmp/n-1.ndjson
     XAPIAN_MAX_CHANGESETS=100 $BIN index update --index $CLUSTER/primary /tmp/n-1.ndjson
     curl -s '$A/v1/search?q=lantern' | grep -o '"total":[0-9]*'; curl -s '$B/v1/search?q=lantern' | grep -o '"total":[0-9]*'

   Deletes go to the writer: a server of a replica answers 409 read_only_copy.
     curl -s -X DELETE -H 'Authorization: Bearer $ADMIN_KEY' '$A/v1/admin/documents/a-001'
EOF

if [ "${MIXI_CLUSTER_SERVE:-1}" = 0 ]; then
    failed=0
    # check WHAT COMMAND...: runs COMMAND up to 20 times, a second apart, until it succeeds.
    check() {
        local what=$1 i
        shift
        for i in $(seq 20); do
            if "$@" >/dev/null 2>&1; then echo "ok: $what"; return 0; fi
            sleep 1
        done
        echo "FAILED: $what" >&2
        failed=1
    }
    first_hit() { curl -s "$1/v1/search?q=apt&lang=en&per_page=1" | grep -o '"id":"[^"]*"' | head -n1; }
    top_is() { [ "$(first_hit "$1")" = "\"id\":\"$2\"" ]; }
    check "before any view, $B ranks the apt-file page first" top_is "$B" en/debian-handbook/sect.apt-file.html
    for _ in $(seq 30); do
        curl -s -X POST -H 'Content-Type: text/plain' -d '{"id":"en/debian-handbook/apt.html"}' "$A/v1/views"
    done
    check "30 views sent to $A move the APT chapter first on $B" top_is "$B" en/debian-handbook/apt.html
    for i in $(seq 0 11); do
        s=$([ $((i % 2)) = 0 ] && echo "$A" || echo "$B")
        curl -s -o /dev/null -H "X-Forwarded-For: 81.2.$((60 + i)).1" "$s/v1/search?q=hiking"
    done
    report() { curl -s -H "Authorization: Bearer $ADMIN_KEY" "$1/v1/admin/reports/popular"; }
    popular_everywhere() {
        report "$A" | grep -q '"query":"hiking","searches":12,"zero_results":0,"searchers":12' &&
            [ "$(report "$A")" = "$(report "$B")" ]
    }
    check "12 searches through both servers pass the thresholds in the same report of each" popular_everywhere
    echo '{"id":"n-1","url":"https://example.social/n-1","title":"Lantern festival","body":"Paper lanterns on the river.","lang":"en","type":"article","visibility":"public"}' >"$CLUSTER/n-1.ndjson"
    "$BIN" index update --quiet --index "$CLUSTER/primary" "$CLUSTER/n-1.ndjson"
    found_on_both() {
        curl -s "$A/v1/search?q=lantern" | grep -q '"total":1' && curl -s "$B/v1/search?q=lantern" | grep -q '"total":1'
    }
    check "an update on the primary reaches both replicas" found_on_both
    refused() { curl -s -X DELETE -H "Authorization: Bearer $ADMIN_KEY" "$A/v1/admin/documents/a-001" | grep -q read_only_copy; }
    check "a delete through a server of a replica is refused (read_only_copy)" refused
    exit "$failed"
fi
wait -n "${pids[@]}" || true
echo "a part of the cluster stopped; see var/cluster/*.log" >&2
exit 1
