package score

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// vtEngineKeys are the VirusTotal last_analysis_stats counts the seed summed
// into its engine total.
var vtEngineKeys = []string{"malicious", "suspicious", "harmless", "undetected", "timeout"}

// seed scores with the original formula: VT ratio × 60 + AbuseIPDB
// confidence/100 × 40, a missing source counting as 0 (see the package doc).
func seed(p Policy, answered []item, ev []Evidence, conf int) Outcome {
	var ratio, abuse float64
	var vtOK, abuseOK bool
	for _, it := range answered {
		if it.Status != provider.StatusOK {
			continue
		}
		switch it.Provider {
		case "virustotal":
			vtOK = true
			mal := number(it.Data["malicious"])
			var total float64
			for _, k := range vtEngineKeys {
				total += number(it.Data[k])
			}
			if total > 0 {
				ratio = mal / total
			}
		case "abuseipdb":
			abuseOK = true
			abuse = clamp01(number(it.Data["abuse_confidence_score"]) / 100)
		}
	}
	score := clampInt(int(math.Round(ratio*60+abuse*40)), 0, 100)
	v := result.Unknown
	switch {
	case score >= p.Malicious:
		v = result.Malicious
	case score >= p.Suspicious:
		v = result.Suspicious
	case vtOK || abuseOK:
		v = result.Benign
	}
	note := fmt.Sprintf("iocane: seed formula: VT ratio %.3f × 60 + AbuseIPDB %.0f/100 × 40 = %d", ratio, abuse*100, score)
	return Outcome{Score: score, Confidence: conf, Verdict: v, Reasons: reasons(answered, ev, note)}
}

// number reads a count from provider Data, which holds ints when fresh and
// float64 or json.Number after a trip through JSON (the cache).
func number(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	case uint:
		return float64(n)
	case uint64:
		return float64(n)
	case float64:
		return finite(n)
	case float32:
		return finite(float64(n))
	case json.Number:
		f, _ := n.Float64()
		return finite(f)
	case string:
		f, _ := strconv.ParseFloat(n, 64)
		return finite(f)
	}
	return 0
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
