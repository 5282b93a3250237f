#!/usr/bin/env bash
# Serves the sample county with `listwise serve` on a free loopback port and runs schemathesis
# against /openapi.json: no 5xx, no answer outside the schema. Usage: .ci/schemathesis.sh BINARY
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
"$BIN" import "$ROOT/Data/sample" --db api.db >/dev/null 2>&1
"$BIN" territory add east-county --zips 94500,94503 --db api.db >/dev/null 2>&1
"$BIN" score --territory east-county --as-of 2025-12-28 --model "$ROOT/Models/sample.json" --db api.db >/dev/null 2>&1
key=$("$BIN" apikey create fuzz --scope export --db api.db 2>/dev/null)
"$BIN" serve --port 0 --db api.db --models "$ROOT/Models" --rate-limit 0 2>serve.log &
server=$!
for _ in $(seq 1 200); do grep -q "msg=serving" serve.log 2>/dev/null && break; sleep 0.1; done
port=$(grep -o " port=[0-9]*" serve.log | head -1 | cut -d= -f2)
[ -n "$port" ] || { echo "schemathesis: the server did not start:" >&2; cat serve.log >&2; exit 1; }
echo "schemathesis: listwise serve on port $port" >&2
status=0
st run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $key" --max-examples 40 --seed 13 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    || status=$?
if grep -q "status=5" serve.log; then
    echo "schemathesis: the server answered 5xx:" >&2
    grep "status=5" serve.log | head -5 >&2
    status=1
fi
echo "schemathesis: $(grep -c "msg=request" serve.log) requests served" >&2
exit "$status"
