package shodan

import (
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider/providertest"
)

// FuzzParse checks that no host body (top-level vulns as a list, banner
// vulns as an object, CVSS as a number or a string) makes parse panic, and
// that a parsed Finding stays on the signal scale with no benign signal.
func FuzzParse(f *testing.F) {
	providertest.AddFixtures(f)
	f.Add([]byte(`{"ip_str":"1.2.3.4","vulns":{"CVE-1":{"cvss":null}},"data":[{"vulns":["CVE-2"]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fd, err := parse(ioc.IOC{Type: ioc.IPv4, Value: "1.2.3.4"}, body)
		if err != nil {
			return
		}
		if fd.Malicious < 0 || fd.Malicious > tagSignal || fd.Benign != 0 || fd.Summary == "" {
			t.Fatalf("finding out of range: %+v", fd)
		}
	})
}
