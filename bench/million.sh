#!/usr/bin/env bash
# Issue 4 acceptance 4: 1,000,000 lines (about 1.25 M IOCs with URL hosts)
# streamed through `iocane enrich`, once --offline (local sources from the
# demo config) and once against the loopback fake providers (ThreatFox takes
# every IOC type, so every IOC costs one provider call and one cache write).
# Reports wall time and peak RSS (GNU time) for each.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
mkdir -p bench/corpus
[ -f bench/corpus/1m.txt ] || go run ./bench/gen1m -n 1000000 -out bench/corpus/1m.txt
CGO_ENABLED=0 go build -o bench/iocane ./cmd/iocane
go build -o bench/corpus/fakeintel ./internal/cmd/fakeintel
tmp=$(mktemp -d)
trap 'kill $fake_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT

echo "== offline"
/usr/bin/time -v bench/iocane enrich --offline --db "$tmp/off.db" --config examples/demo.yaml \
  -f bench/corpus/1m.txt --format jsonl 2> "$tmp/off.time" | wc -l
grep -E "Elapsed|Maximum resident" "$tmp/off.time"

echo "== fake providers (threatfox)"
bench/corpus/fakeintel -listen 127.0.0.1:8099 > "$tmp/fake.env" &
fake_pid=$!
sleep 1
( set -a; . "$tmp/fake.env"; set +a
  /usr/bin/time -v bench/iocane enrich --db "$tmp/fakes.db" --providers threatfox \
    -f bench/corpus/1m.txt --format jsonl 2> "$tmp/fakes.time" | wc -l )
grep -E "Elapsed|Maximum resident" "$tmp/fakes.time"
