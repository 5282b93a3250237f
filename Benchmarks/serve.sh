#!/usr/bin/env bash
# Loads `listwise serve` with wrk on loopback (64 connections, 2 threads, DURATION s) on a
# generated county of PROPERTIES homes, all in one territory and scored: a page of 100 scores
# (the first page, and a page deep in the run through a cursor), a search (rotating queries:
# prefixes, a suffix synonym, a typo, a house number), and the score pages again while a refresh
# writes a new run of every home. Prints req/s, p50/p99 latency and the server's memory (resident
# after each phase, and its peak). Goal (issue 13): >= 2,000 req/s for score pages, p99 < 50 ms.
#   Benchmarks/serve.sh [PROPERTIES] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
PROPERTIES=${1:-1000000}
DURATION=${2:-30}
WORK=Benchmarks/work
DATA=$WORK/county-$PROPERTIES
DB=$WORK/serve-$PROPERTIES.db
mkdir -p "$WORK"
command -v wrk >/dev/null || { S=$(command -v sudo || true); $S apt-get install -y -qq wrk >/dev/null; }

swift build -c release >/dev/null
BIN=.build/release/listwise
[ -f "$DATA/events.csv" ] || "$BIN" sample --properties "$PROPERTIES" --seed 1 --out "$DATA"
if [ ! -f "$DB" ]; then
    "$BIN" import "$DATA" --db "$DB" 2>/dev/null
    zips=$(sqlite3 "$DB" "SELECT group_concat(zip) FROM (SELECT DISTINCT zip FROM properties ORDER BY zip)")
    "$BIN" territory add county --zips "$zips" --db "$DB" >/dev/null 2>&1
    "$BIN" score --territory county --model Models/sample.json --as-of 2025-12-31 --db "$DB" 2>/dev/null
fi
key=$("$BIN" apikey create "bench-$$" --db "$DB" 2>/dev/null)

log=$WORK/serve.log
start=$(date +%s.%N)
"$BIN" serve --port 0 --db "$DB" --rate-limit 0 2>"$log" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 6000); do grep -q "msg=serving" "$log" && break; sleep 0.1; done
port=$(grep -o " port=[0-9]*" "$log" | head -1 | cut -d= -f2)
echo "server ready in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s ($(grep -o 'msg="search index built".*' "$log" || echo 'search index up to date'))" >&2
base="http://127.0.0.1:$port"
rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$server/status"; }
peak() { awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$server/status"; }
echo "server resident at start: $(rss)" >&2

cursor=$(curl -s -H "Authorization: Bearer $key" "$base/v1/territories/county/scores?limit=1000" | python3 -c "import json,sys; print(json.load(sys.stdin)['next_cursor'])")
for _ in $(seq 1 200); do   # a cursor 200,000 homes deep
    cursor=$(curl -s -H "Authorization: Bearer $key" "$base/v1/territories/county/scores?limit=1000&cursor=$cursor" | python3 -c "import json,sys; print(json.load(sys.stdin)['next_cursor'])")
done
cat > "$WORK/search.lua" <<'LUA'
local queries = {"1857%20market", "market%20st", "oak%20lane", "telegrph", "pine%20street%2094503", "7832", "shattuck%20av", "marin"}
local i = 0
request = function()
    i = i + 1
    return wrk.format("GET", "/v1/search?q=" .. queries[(i % #queries) + 1])
end
LUA

run() {   # name url [script]
    local out
    out=$(wrk -t2 -c64 -d"${DURATION}s" --latency -H "Authorization: Bearer $key" ${3:+-s "$3"} "$2")
    local rps p50 p99 errors
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    printf "%-34s %9s req/s   p50 %8s   p99 %8s   non-2xx %s   server resident %s\n" "$1" "$rps" "$p50" "$p99" "${errors:-0}" "$(rss)"
}
echo "wrk: 2 threads, 64 connections, ${DURATION} s, $PROPERTIES homes"
run "scores: first page of 100" "$base/v1/territories/county/scores?limit=100"
run "scores: page of 100, 200k deep" "$base/v1/territories/county/scores?limit=100&cursor=$cursor"
run "search (8 queries in turn)" "$base" "$WORK/search.lua"
( while true; do "$BIN" score --territory county --model Models/sample.json --as-of 2025-12-31 --db "$DB" 2>/dev/null >/dev/null || break; done ) &
refresher=$!
run "scores: page of 100, during a score" "$base/v1/territories/county/scores?limit=100&cursor=$cursor"
kill "$refresher" 2>/dev/null; pkill -f "listwise score --territory county" 2>/dev/null || true; wait "$refresher" 2>/dev/null || true
echo "server peak resident: $(peak)"
