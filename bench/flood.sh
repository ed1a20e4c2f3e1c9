#!/usr/bin/env bash
# Login-flood benchmark (see BENCHMARKS.md): the `simple` example (release build, 127.0.0.1)
# under `POST /login` for unknown users — each one full Argon2id verification against the
# dummy hash — and its resident memory (VmRSS sampled every 20 ms, VmHWM at the end).
#
#   bench/flood.sh                                   # the default phases below
#   PHASES="seq:5 flood:64:8" bench/flood.sh
#   SIMPLE_BIN=/path/to/an/older/simple bench/flood.sh   # measure another build
#
# Phases: `seq:N` N logins one after another; `flood:C:S` C connections for S seconds.
# Careful: without a bound on password work (before the password gate), `flood:64:8` took the server
# to ~5 GiB.
set -euo pipefail

PHASES=${PHASES:-seq:5 flood:64:8 flood:256:15}
PORT=${PORT:-18391}
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}

echo "building (release)..." >&2
cargo build --release -q -p login-examples --example simple --example login_flood
SIMPLE_BIN=${SIMPLE_BIN:-$TARGET/release/examples/simple}

log=$(mktemp)
LOGIN_ADDR=127.0.0.1:$PORT LOGIN_SECRET=flood-bench-secret-0123456789abcdef-0123456789 \
    RUST_LOG=warn "$SIMPLE_BIN" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "http://127.0.0.1:$PORT" "$log" && break; sleep 0.1; done
grep -q "http://127.0.0.1:$PORT" "$log" || { cat "$log"; echo "server did not start" >&2; exit 1; }

echo "server: $SIMPLE_BIN (pid $pid), $(nproc) CPUs"
# shellcheck disable=SC2086
"$TARGET/release/examples/login_flood" "127.0.0.1:$PORT" "$pid" $PHASES
