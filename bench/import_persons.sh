#!/usr/bin/env bash
# The person import benchmark: ours against a bare executemany of the same rows.
#   bench/import_persons.sh [N ...]        default: 100000 and 1000000 rows
# The database follows DATABASE_URL: unset (or sqlite:) uses a scratch SQLite file under var/bench/,
# postgres:// uses a scratch schema (bench_import_persons) in that database, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHEBAO_DEMO=${SHEBAO_DEMO:-1}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
for n in "${sizes[@]}"; do
  .venv/bin/shebao bench import_persons --persons "$n"
done
