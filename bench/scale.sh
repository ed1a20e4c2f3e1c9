#!/usr/bin/env bash
# Sessions at scale (see BENCHMARKS.md, "Sessions at scale"): several `simple` processes
# sharing a store filled toward a million live sessions, measured by bench/src/bin/scale.rs
# (its top comment lists what it measures and its settings: STORES, SESSIONS, INSTANCES,
# MIX_SECONDS, WORKERS, ROUNDS, REVOKE_RATES, REVOKE_SECONDS). Run by hand, never in CI:
# a million sessions take about 1.5 GB of Redis (3 GB on a cluster with its replicas).
#
#   bench/scale.sh                                   # memory, one Redis, a Redis Cluster, PostgreSQL
#   STORES=cluster SESSIONS="10000 100000" bench/scale.sh
#
# It needs redis-server and redis-cli (Debian's redis-server package) on the PATH, and for
# `postgres` Debian's postgresql (/usr/lib/postgresql/<version>/bin; as root it runs the
# server as the `postgres` user, like the tests); the stores
# are started on free loopback ports and stopped at the end. The output also goes to
# target/scale-<date>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p login-examples --bin login-simple
cargo build --release -p login-bench --bin scale
log="target/scale-$(date -u +%Y%m%dT%H%M%SZ).log"
SIMPLE_BIN="$PWD/target/release/login-simple" target/release/scale 2>&1 | tee "$log"
