// Package verdictbench holds the verdict benchmark: labelled cases, each a
// set of provider answers in the providers' real response shapes, run end to
// end (httptest fakes → the real provider packages → the enrichment engine →
// the score) and tallied into a confusion matrix. It has no code outside its
// tests; see BENCHMARKS.md for the command and the figures.
//
// A case lives in testdata/cases/*.json:
//
//	{"name": "cdn-edge-vt2-riot", "ioc": "104.16.132.229", "label": "benign",
//	 "why": "a Cloudflare edge: two engines of 94 are noise, RIOT names it",
//	 "answers": {"virustotal": {"body": {...}}, "otx": {"status": 404, "body": {...}}}}
//
// Each answer is what the provider's API returns (status, default 200, and
// body) for any request the provider makes. The label is the verdict class an
// analyst should get; the hard rule is that no benign- or unknown-labelled
// case comes out malicious and no malicious-labelled case benign.
package verdictbench
