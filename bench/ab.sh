#!/usr/bin/env bash
# bench/ab.sh: compare iocane binaries on the extraction corpus, run
# alternately so that the host's slow and fast spells touch each alike.
#
#   git worktree add /tmp/old OLDCOMMIT && (cd /tmp/old && CGO_ENABLED=0 go build -o /tmp/iocane-old ./cmd/iocane)
#   CGO_ENABLED=0 go build -o /tmp/iocane-new ./cmd/iocane
#   bench/ab.sh 8 /tmp/iocane-old /tmp/iocane-new
#
# Each run is `taskset -c 0 BIN extract --input-format text CORPUS > FILE`
# (CORPUS: bench/corpus/mixed.txt, or $CORPUS); the time is wall-clock from
# date(1), so it includes the start of the process. Prints the best and the
# median per binary, in seconds and MB/s.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/ab.sh RUNS BIN..." >&2; exit 2; }
runs=$1
shift
corpus=${CORPUS:-bench/corpus/mixed.txt}
[ -s "$corpus" ] || { echo "bench/ab.sh: no corpus at $corpus (bench/run.sh makes it)" >&2; exit 1; }
bytes=$(stat -c %s "$corpus")
out=$(mktemp)
trap 'rm -f "$out" "$out".*' EXIT
for _ in $(seq "$runs"); do
	for k in $(seq $#); do
		bin=${!k}
		s=$(date +%s%N)
		taskset -c 0 "$bin" extract --input-format text "$corpus" >"$out"
		e=$(date +%s%N)
		echo $(((e - s) / 1000)) >>"$out.$k"
	done
done
for k in $(seq $#); do
	sort -n "$out.$k" | awk -v name="${!k}" -v bytes="$bytes" '{t[NR] = $1 / 1e6}
		END {m = t[int((NR + 1) / 2)]; printf "%-28s best %.3f s  median %.3f s  (%d runs)  %.1f / %.1f MB/s\n", name, t[1], m, NR, bytes / 1e6 / t[1], bytes / 1e6 / m}'
done
