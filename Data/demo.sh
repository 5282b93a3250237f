#!/usr/bin/env bash
# The README's demo: the bundled sample county (Data/sample, 10,000 homes) from the CSV files
# to a mail list, with the commands an analyst and a marketer run. Everything it writes goes
# in one folder (default ./demo, emptied of a previous demo's files first); it prints where
# each file is. About 7 s after the release build.
#   bash Data/demo.sh [FOLDER]          LISTWISE=path/to/listwise to run another build
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LISTWISE:-$ROOT/.build/release/listwise}
OUT=${1:-demo}
[ -x "$BIN" ] || { echo "demo: $BIN not found: run 'swift build -c release' first" >&2; exit 2; }
mkdir -p "$OUT"
cd "$OUT"
OUT=$(pwd)
rm -f demo.db demo.db-wal demo.db-shm demo.db.refresh.lock Models/demo.json report.html report.txt mail.csv
DB=demo.db
AS_OF=2025-12-28   # the sample's last event date: scores describe the data as they end
step() { printf '\n== %s\n' "$*" >&2; }

step "import the sample county (properties, owners, prospects, events)"
"$BIN" import "$ROOT/Data/sample" --db "$DB"
step "train the likely-to-sell model (validated out of time)"
"$BIN" train --db "$DB" --out Models/demo.json
step "evaluate the shipped model Models/sample.json on the same validation snapshot"
"$BIN" evaluate --db "$DB" --model "$ROOT/Models/sample.json"
step "define a territory: the two busiest zips"
"$BIN" territory add east-county --zips 94500,94503 --db "$DB"
step "score it (newest model in Models/: the one just trained)"
"$BIN" score --territory east-county --as-of "$AS_OF" --db "$DB"
step "report: text summary and a self-contained HTML page"
"$BIN" report --territory east-county --db "$DB" --html report.html > report.txt
head -n 4 report.txt >&2
step "export a mail list: the 500 best households, Publication 28 addresses"
"$BIN" export --territory east-county --channel mail --campaign demo-mailer --top 500 --db "$DB" --out mail.csv

cat >&2 <<EOF

Done. The files:
  database      $OUT/$DB
  model         $OUT/Models/demo.json
  report        $OUT/report.html  (open it in a browser; text: $OUT/report.txt)
  mail list     $OUT/mail.csv  ($(($(wc -l < mail.csv) - 1)) households)
Next: 'listwise export --channel email|ads ...', 'listwise status --db $OUT/$DB', and the README.
EOF
