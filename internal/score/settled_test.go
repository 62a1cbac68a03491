package score

import (
	"slices"
	"testing"

	"github.com/iocane/iocane/internal/provider"
)

func TestSettled(t *testing.T) {
	ok := provider.StatusOK
	tf := Evidence{Provider: "threatfox", Status: ok, Malicious: 0.95, Reliability: provider.ReliabilityB}
	weakTF := Evidence{Provider: "threatfox", Status: ok, Malicious: 0.6, Reliability: provider.ReliabilityB}
	otxAllow := Evidence{Provider: "otx", Status: ok, Benign: 0.95, Reliability: provider.ReliabilityC}
	gradeD := Evidence{Provider: "otx", Status: ok, Malicious: 0.95, Reliability: provider.ReliabilityD}
	cdn := Evidence{Provider: "knowninfra", Status: ok, Context: true, Discount: 0.9}
	notFound := Evidence{Provider: "urlhaus", Status: provider.StatusNotFound}
	for _, c := range []struct {
		name string
		ev   []Evidence
		want []string
	}{
		{"conclusive malicious source", []Evidence{notFound, tf}, []string{"threatfox"}},
		{"conclusive benign evidence", []Evidence{otxAllow, notFound}, []string{"otx"}},
		{"a weak signal decides nothing", []Evidence{weakTF, notFound}, nil},
		{"a grade D source alone decides nothing", []Evidence{gradeD}, nil},
		{"known infrastructure lowers the malicious signal first", []Evidence{tf, cdn}, nil},
		{"not found is no evidence", []Evidence{notFound}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, by := Settled(DefaultPolicy(), c.ev)
			if got != (len(c.want) > 0) || !slices.Equal(by, c.want) {
				t.Errorf("Settled = %v %v, want %v", got, by, c.want)
			}
		})
	}
	if got, _ := Settled(Policy{Mode: ModeSeed}, []Evidence{tf}); got {
		t.Error("the seed mode settled")
	}
}
