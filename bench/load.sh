#!/usr/bin/env bash
# HTTP load benchmark (see BENCHMARKS.md): requests/s, p99 latency and peak RSS of
#
#   unprotected        an axum route answering the same JSON, no authentication (the ceiling)
#   hand-written       a hand-written jsonwebtoken extractor (HS256)
#   protected          #[protected] + #[user_loader] (HS256, token cache on: the default)
#   simple             the simple example's GET /protected (cargo run --example simple)
#   protected-nocache  #[protected] with .token_cache(0)
#   protected-RS256 / protected-ES256 / protected-EdDSA   #[protected] with asymmetric keys
#
# Every row but `simple` is served by bench/src/bin/bench_server.rs (package login-bench).
#
# Every request carries the same token (a client repeats its token). The server runs on one
# core and wrk on the other (taskset); 127.0.0.1 only. Rows are interleaved: each round runs
# every row once, in a rotated order, and the summary reports medians over the rounds and the
# median of the per-round ratios.
#
# Besides wrk's requests/s and p99, the server's own CPU time (user + system, all threads, from
# /proc/PID/stat) is divided by the requests served: CPU per request. With the server's core to
# itself, requests/s is 1 / (CPU per request); on a shared or oversubscribed machine, requests/s
# also measures how much of the core the server was given, while CPU per request does not, so
# its ratios ("capacity") are the steadier figure.
#
# Many-tokens mode (TOKENS set): a list of mixes, each a number N of distinct valid tokens
# (minted up front by bench/src/bin/mint_tokens.rs, as the simple example's /login issues them);
# wrk cycles through them (bench/tokens.lua), each request carrying the next one. Every mix runs
# its own interleaved rounds of ROWS (default: hand-written, protected, protected-nocache,
# simple), and the summary gives, per mix, the paired ratios (median and range of the per-round
# ratios), server CPU per request and peak RSS.
#
#   bench/load.sh                                  # 3 rounds of 5 s per row
#   ROUNDS=5 DURATION=10 bench/load.sh
#   ROWS="unprotected hand-written protected" bench/load.sh
#   TOKENS="1 2000 20000 200000" ROUNDS=7 bench/load.sh   # many-tokens mode
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=${PORT:-18381}
TOKENS=${TOKENS:-}
if [ -n "$TOKENS" ]; then
    ROWS=${ROWS:-hand-written protected protected-nocache simple}
else
    ROWS=${ROWS:-unprotected hand-written protected simple protected-nocache protected-RS256 protected-ES256 protected-EdDSA}
fi

cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
OUT=${OUT:-$TARGET/load-bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
URL="http://127.0.0.1:$PORT/protected"
SIMPLE_SECRET=load-bench-secret-0123456789abcdef-0123456789

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
    else sudo apt-get install -y wrk >&2; fi
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }

echo "building (release)..." >&2
cargo build --release -q -p login-bench --bin bench_server --bin mint_tokens
cargo build --release -q -p login-examples --example simple
BENCH_SERVER=$TARGET/release/bench_server
SIMPLE=$TARGET/release/examples/simple
MINT=$TARGET/release/mint_tokens
# Every server verifies with the same secret, so that one file of minted tokens serves them all.
export BENCH_SECRET=$SIMPLE_SECRET

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

# start_server ROW LOG: starts the row's server on $SERVER_CPU, sets SERVER_PID and TOKEN (in
# many-tokens mode, the first token of the mix's file).
start_server() {
    local row=$1 log=$2
    case $row in
        simple)
            LOGIN_SECRET=$SIMPLE_SECRET LOGIN_ADDR=127.0.0.1:$PORT \
                taskset -c "$SERVER_CPU" "$SIMPLE" >"$log" 2>&1 &
            ;;
        unprotected | hand-written | protected)
            BENCH_ADDR=127.0.0.1:$PORT taskset -c "$SERVER_CPU" "$BENCH_SERVER" "$row" >"$log" 2>&1 &
            ;;
        protected-nocache)
            BENCH_ADDR=127.0.0.1:$PORT taskset -c "$SERVER_CPU" "$BENCH_SERVER" protected HS256 --no-cache >"$log" 2>&1 &
            ;;
        protected-*)
            BENCH_ADDR=127.0.0.1:$PORT taskset -c "$SERVER_CPU" "$BENCH_SERVER" protected "${row#protected-}" >"$log" 2>&1 &
            ;;
        *) echo "unknown row $row" >&2; exit 1 ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        grep -q '^.*listening on' "$log" 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; echo "$row: server exited" >&2; exit 1; }
        sleep 0.1
    done
    grep -q 'listening on' "$log" || { echo "$row: server did not start" >&2; exit 1; }
    if [ -n "$TOKENS" ]; then
        TOKEN=$(head -n1 "$TOKEN_FILE")
    elif [ "$row" = simple ]; then
        TOKEN=$(curl -sf -d 'username=johndoe@mail.com&password=hunter2' "http://127.0.0.1:$PORT/login" |
            sed -E 's/.*"access_token":"([^"]+)".*/\1/')
    else
        TOKEN=$(sed -n 's/^token //p' "$log")
    fi
    local body
    body=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL") || { echo "$row: GET /protected failed" >&2; exit 1; }
    case $body in *johndoe@mail.com*) ;; *) echo "$row: unexpected body $body" >&2; exit 1 ;; esac
}

# to_us VALUE: wrk's latency (123.45us, 1.23ms, 1.00s) in microseconds.
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /m$/) print n * 60e6; else if (v ~ /s$/) print n * 1e6; else print n }'
}

# cpu_ticks PID: user + system time of every thread of PID, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
HZ=$(getconf CLK_TCK)

# run_wrk SECONDS START [wrk options]: wrk on $CLIENT_CPU, every request with the same token
# ($TOKEN), or in many-tokens mode the tokens of $TOKEN_FILE from line START + 1 on.
run_wrk() {
    local seconds=$1 start=$2
    shift 2
    if [ -n "$TOKENS" ]; then
        TOKENS=$TOKEN_FILE taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${seconds}s" "$@" \
            -s bench/tokens.lua "$URL" -- "$start"
    else
        taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${seconds}s" "$@" \
            -H "Authorization: Bearer $TOKEN" "$URL"
    fi
}

RAW=$OUT/raw.tsv
printf 'tokens\tround\trow\treq_per_s\tp99_us\tpeak_rss_kb\tcpu_us_per_req\n' >"$RAW"
read -r -a rows <<<"$ROWS"
n=${#rows[@]}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt" >&2
for mix in ${TOKENS:-same}; do
    TOKEN_FILE=
    if [ -n "$TOKENS" ]; then
        TOKEN_FILE=$OUT/tokens-$mix.txt
        echo "minting $mix tokens..." >&2
        "$MINT" "$mix" "$TOKEN_FILE"
    fi
    # The warm-up starts half-way through the mix, the measured run at its start: with many
    # tokens, the measured run's tokens are new to the server.
    half=$(((${mix/same/1}) / 2))
    for round in $(seq 1 "$ROUNDS"); do
        for k in $(seq 0 $((n - 1))); do
            row=${rows[$(((k + round - 1) % n))]}
            log=$OUT/server-$mix-$row-$round.log
            w=$OUT/wrk-$mix-$row-$round.txt
            start_server "$row" "$log"
            run_wrk "$WARMUP" "$half" >/dev/null
            t0=$(cpu_ticks "$SERVER_PID")
            run_wrk "$DURATION" 0 --latency >"$w"
            t1=$(cpu_ticks "$SERVER_PID")
            rss=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
            stop_server
            if grep -q 'Non-2xx' "$w"; then echo "$row: non-2xx responses" >&2; cat "$w" >&2; exit 1; fi
            rps=$(awk '/^Requests\/sec:/ {print $2}' "$w")
            p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$w")")
            cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" '/ requests in / {print (b - a) * 1e6 / hz / $1}' "$w")
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mix" "$round" "$row" "$rps" "$p99" "$rss" "$cpu" >>"$RAW"
            printf 'tokens %s round %s  %-18s %8.0f req/s  p99 %7.0f us  peak RSS %5.1f MiB  server CPU %5.2f us/req\n' \
                "$mix" "$round" "$row" "$rps" "$p99" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$cpu" >&2
        done
    done
    [ -z "$TOKEN_FILE" ] || rm -f "$TOKEN_FILE"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt" >&2

# Summary, per mix of tokens: medians per row, then ratios (median and range of the per-round
# ratios).
awk -F'\t' -v rows="$ROWS" -v mixes="${TOKENS:-same}" '
function sort(a, m,    i, j, t) {
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
}
function median(list,    a, m) {
    m = split(list, a, " "); sort(a, m)
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function range(list,    a, m) {
    m = split(list, a, " "); sort(a, m)
    return sprintf("%.2f–%.2f", a[1], a[m])
}
NR > 1 {
    k = $1 SUBSEP $3
    rps[k] = rps[k] " " $4; p99[k] = p99[k] " " $5; rss[k] = rss[k] " " $6; cpu[k] = cpu[k] " " $7
    r[$1, $2, $3] = $4; c[$1, $2, $3] = $7; rounds[$2] = 1
}
# ratio(x, a, b, m): over the rounds of mix x, a / b in requests/s (m = "r") or b / a in CPU per
# request (m = "c": the capacity ratio); "median (min–max, n rounds)".
function ratio(x, a, b, m,    list, k, n) {
    list = ""; n = 0
    for (k in rounds) if (((x, k, a) in r) && ((x, k, b) in r)) {
        list = list " " (m == "r" ? r[x, k, a] / r[x, k, b] : c[x, k, b] / c[x, k, a]); n++
    }
    return list == "" ? "" : sprintf("%.2fx (%s, %d)", median(list), range(list), n)
}
END {
    n = split(rows, order, " "); nm = split(mixes, mix, " ")
    for (x = 1; x <= nm; x++) {
        m = mix[x]
        printf "\n%s\n\n| row | req/s | p99 | peak RSS | server CPU per request |\n|---|---:|---:|---:|---:|\n",
            m == "same" ? "### every request with the same token" : "### " m " distinct tokens, cycled"
        for (i = 1; i <= n; i++) {
            w = order[i]; k = m SUBSEP w; if (!(k in rps)) continue
            printf "| %s | %.0f | %.0f µs | %.1f MiB | %.2f µs |\n", w, median(rps[k]), median(p99[k]), median(rss[k]) / 1024, median(cpu[k])
        }
        printf "\n| ratio: median (range, rounds) | req/s | capacity (1 / CPU per request) |\n|---|---:|---:|\n"
        split("hand-written/unprotected protected/hand-written protected/unprotected simple/unprotected simple/hand-written protected-nocache/hand-written protected-nocache/unprotected protected/protected-nocache protected-RS256/protected protected-ES256/protected protected-EdDSA/protected", pairs, " ")
        for (i = 1; i in pairs; i++) {
            split(pairs[i], ab, "/"); v = ratio(m, ab[1], ab[2], "r")
            if (v != "") printf "| %s / %s | %s | %s |\n", ab[1], ab[2], v, ratio(m, ab[1], ab[2], "c")
        }
    }
}' "$RAW" | tee "$OUT/summary.md"
echo "raw figures: $RAW" >&2
