#!/bin/bash
# jobrss.sh BINARY LABEL BODY: runs `BINARY serve` (no provider keys, a fresh --db in $WORK) and one job
# of BODY posted to /v1/jobs, and prints VmRSS idle, VmHWM 20 s in and at the end, process CPU and VmHWM/body.
# BODY: go run ./bench/gencorpus -size 9MB -out /tmp/body9.txt. EXTRA="GOGC=100" passes settings to the server.
set -u
mkdir -p "${WORK:-/tmp/iocane-rss}"
BODY=$(realpath "$3")
cd "${WORK:-/tmp/iocane-rss}"
BIN=$(realpath "$1"); L=$2
rm -f m.db*
env -i PATH=$PATH HOME="$PWD" ${EXTRA:-} IOCANE_ADMIN_TOKEN=admintoken123456789 $BIN --db m.db serve --listen 127.0.0.1:8096 > rss-serve.log 2>&1 &
SP=$!
sleep 2
idle=$(grep VmRSS /proc/$SP/status | awk '{print $2}')
id=$(curl -s -H "Authorization: Bearer admintoken123456789" -H 'Content-Type: text/plain' --data-binary @"$BODY" http://127.0.0.1:8096/v1/jobs | jq -r .id)
sleep 20
h20=$(grep VmHWM /proc/$SP/status | awk '{print $2}')
while [ "$(curl -s -H "Authorization: Bearer admintoken123456789" http://127.0.0.1:8096/v1/jobs/$id | jq -r .state)" != completed ]; do sleep 2; done
hend=$(grep VmHWM /proc/$SP/status | awk '{print $2}')
cpu=$(awk "{print (\$14+\$15)/100}" /proc/$SP/stat)
iocs=$(curl -s -H "Authorization: Bearer admintoken123456789" http://127.0.0.1:8096/v1/jobs/$id | jq -r .counts.iocs)
curl -s -H "Authorization: Bearer admintoken123456789" http://127.0.0.1:8096/metrics | grep -E "^(go_memstats_(sys|heap_sys|heap_idle|heap_released|heap_inuse|stack_sys|other_sys|mspan_sys|gc_sys)_bytes|process_resident_memory_bytes|go_memstats_next_gc)" > metrics-end.txt
kill $SP; wait $SP 2>/dev/null
body=$(stat -c %s "$BODY")
echo "$L idle_rss=${idle}kB hwm20s=${h20}kB hwm_end=${hend}kB iocs=$iocs body=$body cpu_s=$cpu ratio_end=$(echo "scale=2; $hend*1024/$body" | bc)"
