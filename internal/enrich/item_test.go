package enrich

import (
	"testing"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

func TestItemFrom(t *testing.T) {
	i := ioc.IOC{Type: ioc.Domain, Value: "evil.com"}
	orig := map[string]string{"filename": "a.zip"}
	cases := []struct {
		in   input.Item
		lvl  tlp.Level
		want tlp.Level
	}{
		{input.Item{IOC: i}, tlp.Amber, tlp.Amber},
		{input.Item{IOC: i, TLP: "red"}, tlp.Amber, tlp.Red},
		{input.Item{IOC: i, TLP: "green"}, tlp.Amber, tlp.Amber}, // the stricter wins
		{input.Item{IOC: i, TLP: "tlp:purple"}, tlp.Green, tlp.Red},
	}
	for _, c := range cases {
		if got := ItemFrom(c.in, c.lvl); got.TLP != c.want {
			t.Errorf("ItemFrom(tlp %q, %v).TLP = %v, want %v", c.in.TLP, c.lvl, got.TLP, c.want)
		}
	}
	got := ItemFrom(input.Item{IOC: i, Raw: "evil[.]com", Path: "body:text/plain", Context: orig}, tlp.Amber)
	if got.Context["raw"] != "evil[.]com" || got.Context["path"] != "body:text/plain" || got.Context["filename"] != "a.zip" {
		t.Errorf("context %v", got.Context)
	}
	if len(orig) != 1 {
		t.Errorf("ItemFrom changed the input's context map: %v", orig)
	}
}
