#!/usr/bin/env bash
# bench/run.sh: issue 2's extraction benchmark. iocane and the npm
# ioc-extractor package (version pinned in bench/package.json) read the same
# generated corpus in one run, each pinned to one core (taskset -c 0); the
# script reports for each tool MB/s, peak RSS (GNU time's "Maximum resident
# set size") and precision/recall per type against the corpus's ground
# truth, then both tools' precision/recall on internal/ioc's hand-written
# cases.
#
#   bench/run.sh                     # from the repository root or anywhere
#   SIZE=50MB SEED=1 bench/run.sh    # corpus size and seed (defaults shown)
#   RUNS=5 bench/run.sh              # how many times iocane runs (median shown)
#   PROFILE=1 bench/run.sh           # also: where iocane's CPU time goes
#
# Needs go, node and npm, taskset (util-linux) and GNU time at /usr/bin/time.
# GNU time is not in every image: when it is missing and the script runs as
# root with apt-get, it installs it (apt-get update && apt-get install -y
# time); otherwise it stops and says so. The corpus (bench/corpus/mixed.txt
# and mixed.truth.jsonl) is generated when missing by bench/gencorpus;
# results go to bench/corpus/results/. Neither is committed.
#
# MB/s is given twice: per wall-clock second, and per CPU second (user +
# system, from GNU time). On a machine shared with other work the wall
# figure drops with the load (the load average is printed beside it); the
# CPU figure does not.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZE=${SIZE:-50MB}
SEED=${SEED:-1}
RUNS=${RUNS:-5}
CORPUS=bench/corpus/mixed.txt
TRUTH=bench/corpus/mixed.truth.jsonl
CASES=internal/ioc/testdata/extract_cases.json
OUT=bench/corpus/results
mkdir -p "$OUT"

die() { echo "bench/run.sh: $*" >&2; exit 1; }

for tool in go node npm taskset; do
	command -v "$tool" >/dev/null || die "$tool is not installed; it is needed to run the benchmark"
done
if ! /usr/bin/time -v true >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "bench/run.sh: GNU time missing: apt-get install -y time" >&2
		apt-get update -qq && apt-get install -y -qq time >/dev/null
	fi
	/usr/bin/time -v true >/dev/null 2>&1 || die "GNU time (/usr/bin/time -v) is missing: apt-get update && apt-get install -y time"
fi

if [ ! -s "$CORPUS" ] || [ ! -s "$TRUTH" ]; then
	echo "== generating the corpus ($SIZE, seed $SEED)"
	go run ./bench/gencorpus -size "$SIZE" -seed "$SEED" -out "$CORPUS" -truth "$TRUTH"
fi
if [ ! -f bench/node_modules/ioc-extractor/package.json ]; then
	echo "== npm ci (ioc-extractor)"
	(cd bench && npm ci --no-audit --no-fund --silent) || die "npm ci in bench/ failed"
fi
echo "== building iocane and the scorer"
CGO_ENABLED=0 go build -o bench/iocane ./cmd/iocane
go build -o "$OUT/score" ./bench/score

BYTES=$(stat -c %s "$CORPUS")
IEXV=$(node -e 'console.log(require("./bench/node_modules/ioc-extractor/package.json").version)')

# timed NAME CMD...: runs CMD on core 0 under GNU time, stdout to
# $OUT/NAME.jsonl, stderr to $OUT/NAME.err, GNU time's report to
# $OUT/NAME.time; prints one summary line.
timed() {
	local name=$1
	shift
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	/usr/bin/time -v -o "$OUT/$name.time" taskset -c 0 "$@" >"$OUT/$name.jsonl" 2>"$OUT/$name.err" ||
		{ cat "$OUT/$name.err" >&2; die "$name failed"; }
	awk -v name="$name" -v bytes="$BYTES" -v la="$load" -F': ' '
		/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {rss=$2}
		/Elapsed \(wall clock\)/ {n=split($2, p, ":"); e=0; for (i=1; i<=n; i++) e=e*60+p[i]}
		END {
			printf "%-14s %9.3f s wall %8.2f MB/s | %7.2f s cpu (user %.2f + sys %.2f) %8.2f MB/cpu-s | peak RSS %7.1f MB | load before %s\n",
				name, e, bytes/1e6/e, u+s, u, s, bytes/1e6/(u+s), rss/1024, la
		}' "$OUT/$name.time"
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB; $(go version | cut -d' ' -f3-4), node $(node --version), ioc-extractor $IEXV"
echo "== corpus: $CORPUS, $BYTES bytes, $(wc -l <"$TRUTH") planted IOCs"
echo "== extraction, one core each (taskset -c 0)"
# iocane runs RUNS times (a run is half a second; the wall figure of one
# moves by several per cent with the host), ioc-extractor once.
for k in $(seq "$RUNS"); do
	timed iocane bench/iocane extract --input-format text "$CORPUS" | tee -a "$OUT/iocane.runs"
done
awk -v bytes="$BYTES" '
	{ for (i = 1; i < NF; i++) { if ($(i+1) == "s" && $(i+2) == "wall") w[NR] = $i; if ($(i+1) == "s" && $(i+2) == "cpu") c[NR] = $i } }
	END {
		n = asort(w); asort(c)
		m = int((n + 1) / 2)
		printf "iocane, %d runs: median %.3f s wall = %.2f MB/s (best %.2f, worst %.2f) | median %.2f s cpu = %.2f MB/cpu-s\n",
			n, w[m], bytes/1e6/w[m], bytes/1e6/w[1], bytes/1e6/w[n], c[m], bytes/1e6/c[m]
	}' "$OUT/iocane.runs"
rm -f "$OUT/iocane.runs"
timed ioc-extractor node bench/ioc-extractor.mjs "$CORPUS"
sed -n 's/^/   /p' "$OUT/ioc-extractor.err"

echo
echo "== precision/recall on the corpus ($TRUTH)"
"$OUT/score" -truth "$TRUTH" -got "$OUT/iocane.jsonl" -name "iocane" -examples 5 2>"$OUT/iocane.examples"
echo
"$OUT/score" -truth "$TRUTH" -got "$OUT/ioc-extractor.jsonl" -name "ioc-extractor $IEXV" -examples 5 2>"$OUT/ioc-extractor.examples"
echo "(examples of false positives/negatives: $OUT/*.examples)"

echo
echo "== precision/recall on the hand-written cases ($CASES)"
node bench/ioc-extractor.mjs --cases "$CASES" >"$OUT/cases-ioc-extractor.jsonl" 2>"$OUT/cases-ioc-extractor.err" ||
	{ cat "$OUT/cases-ioc-extractor.err" >&2; die "ioc-extractor on the cases failed"; }
"$OUT/score" -cases "$CASES" -got "$OUT/cases-ioc-extractor.jsonl" -name "ioc-extractor $IEXV" -examples 100 2>"$OUT/cases-ioc-extractor.examples"
echo
echo "iocane (go test ./internal/ioc -run TestPrecisionRecall -v)"
go test ./internal/ioc -run 'TestPrecisionRecall$' -count 1 -v >"$OUT/cases-iocane.txt" 2>&1 || echo "   (TestPrecisionRecall failed: see below)"
sed -n '/type  *TP/,/^all/p' "$OUT/cases-iocane.txt" | sed 's/^ *//'
grep -E -- '--- FAIL|corpus not at' "$OUT/cases-iocane.txt" || true

if [ "${PROFILE:-}" = 1 ]; then
	echo
	echo "== profile: the extraction engine alone (bench/profextract -stage scan) and the whole command (BenchmarkExtractCorpus)"
	go build -o "$OUT/profextract" ./bench/profextract
	taskset -c 0 "$OUT/profextract" -stage scan -cpuprofile "$OUT/scan.prof" "$CORPUS"
	IOCANE_BENCH_CORPUS=$PWD/$CORPUS taskset -c 0 go test ./cmd/iocane -run '^$' -bench 'ExtractCorpus$' -cpu 1 -benchtime 5x \
		-cpuprofile "$OUT/extract.prof" -o "$OUT/iocane.test" | grep Benchmark
	go tool pprof -top -nodecount 25 "$OUT/iocane.test" "$OUT/extract.prof" 2>/dev/null | sed -n '/flat%/,$p'
	echo "-- cumulative"
	go tool pprof -top -cum -nodecount 30 "$OUT/iocane.test" "$OUT/extract.prof" 2>/dev/null | sed -n '/flat%/,$p'
fi
