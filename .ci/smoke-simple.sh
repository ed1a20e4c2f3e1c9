#!/usr/bin/env bash
# Starts `cargo run --example simple` on a free loopback port, logs in over HTTP, calls the
# protected route, fetches the OpenAPI document and Swagger UI, and stops the server. Fails on
# any unexpected answer.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
cargo build --quiet --example simple
# The binary `cargo run --example simple` runs (run directly so that `kill` reaches it).
LOGIN_ADDR="127.0.0.1:$port" LOGIN_SECRET="smoke-test-secret-that-is-long-enough-0123" \
  "${CARGO_TARGET_DIR:-target}/debug/examples/simple" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "http://127.0.0.1:$port" "$log" && break; sleep 0.2; done
grep -q "http://127.0.0.1:$port" "$log" || { cat "$log"; echo "server did not start"; exit 1; }
token=$(curl -sf -d 'username=johndoe@mail.com&password=hunter2' "http://127.0.0.1:$port/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
body=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/protected")
[ "$body" = '{"user":{"email":"johndoe@mail.com","name":"John Doe"}}' ] || { echo "unexpected: $body"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/protected")
[ "$status" = 401 ] || { echo "unexpected status $status"; exit 1; }
for path in /openapi.json /docs/; do
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$status" = 200 ] || { echo "unexpected status $status for $path"; exit 1; }
done
echo "smoke: simple example OK (login, protected 200, anonymous 401, /openapi.json, /docs/)"
