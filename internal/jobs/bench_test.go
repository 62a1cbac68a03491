package jobs

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// splunkAlert is a realistic alert-action webhook body (~700 bytes).
const splunkAlert = `{"sid":"scheduler__admin__search__RMD5b3b1_at_1700000000_%d","search_name":"Outbound to known C2",
"app":"search","owner":"admin","results_link":"https://splunk.example.com/app/search/@go?sid=scheduler__admin__search__RMD5b3b1_at_1700000000_%d",
"result":{"_time":"1700000000","src_ip":"10.20.30.40","dest_ip":"185.220.101.47","url":"hxxp://evil-payload[.]xyz/stage2.bin",
"file_hash":"44d88612fea8a8f36de82e1278abb02f","user":"jdoe","host":"wks-0042","count":"17"}}`

// BenchmarkSubmit measures durable submissions per second: each Submit
// commits the job row and its River job before returning, as a webhook's
// 202 requires. No workers run, so the figure is the store's intake
// ceiling.
func BenchmarkSubmit(b *testing.B) {
	h := newHarness(b, nil, "", Options{})
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8) // 8×GOMAXPROCS concurrent submitters, like many webhook senders
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(splunkAlert, i, i)
			_, _, err := h.q.Submit(context.Background(), Spec{
				IdempotencyKey: fmt.Sprintf("splunk:%d", i), Source: "splunk", InputFormat: "json", Input: []byte(body),
				Alert: &AlertRef{System: "splunk", ID: fmt.Sprint(i)},
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
}
