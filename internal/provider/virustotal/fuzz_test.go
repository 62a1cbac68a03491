package virustotal

import (
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/provider/providertest"
)

// FuzzParse checks that no answer body makes parse panic, and that a parsed
// Finding keeps its signals on the scale and is never malicious without a
// detection. Seeds: every fixture (go test runs them; go test -fuzz explores).
func FuzzParse(f *testing.F) {
	providertest.AddFixtures(f)
	f.Add([]byte(`{"data":{"id":"x","attributes":{"last_analysis_stats":{"malicious":-3,"suspicious":-1}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ty := range types {
			fd, err := parse(ioc.IOC{Type: ty, Value: "v"}, body)
			if err != nil {
				continue
			}
			if fd.Status != provider.StatusOK || fd.Malicious < 0 || fd.Malicious > 1 || fd.Benign < 0 || fd.Benign > 1 {
				t.Fatalf("finding out of range: %+v", fd)
			}
			if fd.Data["malicious"].(int) <= 0 && fd.Data["suspicious"].(int) <= 0 && fd.Malicious != 0 {
				t.Fatalf("malicious signal %v without a detection", fd.Malicious)
			}
		}
	})
}
