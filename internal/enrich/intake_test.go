package enrich

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
		if got := itemFrom(c.in, c.lvl); got.TLP != c.want {
			t.Errorf("itemFrom(tlp %q, %v).TLP = %v, want %v", c.in.TLP, c.lvl, got.TLP, c.want)
		}
	}
	got := itemFrom(input.Item{IOC: i, Raw: "evil[.]com", Path: "body:text/plain", Context: orig}, tlp.Amber)
	if got.Context["raw"] != "evil[.]com" || got.Context["path"] != "body:text/plain" || got.Context["filename"] != "a.zip" {
		t.Errorf("context %v", got.Context)
	}
	if len(orig) != 1 {
		t.Errorf("ItemFrom changed the input's context map: %v", orig)
	}
}

func TestIntakeDedupesExactlyAndKeepsRaw(t *testing.T) {
	in := &Intake{TLP: tlp.Green, Providers: []string{"virustotal"}}
	var got []Item
	emit := func(it Item) error { got = append(got, it); return nil }
	body := "see hxxp://evil[.]com/x and evil[.]com, again evil.com and 185.220.101[.]47\n"
	if err := in.Read(t.Context(), strings.NewReader(body), "body", emit); err != nil {
		t.Fatal(err)
	}
	if err := in.Value(ioc.IOC{Type: ioc.Domain, Value: "evil.com"}, emit); err != nil {
		t.Fatal(err)
	}
	if err := in.Value(ioc.IOC{Type: ioc.Domain, Value: "other.example"}, emit); err != nil {
		t.Fatal(err)
	}
	byValue := map[string]Item{}
	for _, it := range got {
		if _, dup := byValue[it.IOC.Value]; dup {
			t.Errorf("%s emitted twice", it.IOC.Value)
		}
		byValue[it.IOC.Value] = it
		if it.TLP != tlp.Green || len(it.Providers) != 1 {
			t.Errorf("%s: TLP %v providers %v", it.IOC.Value, it.TLP, it.Providers)
		}
	}
	if len(got) != 4 || in.Taken() != 4 {
		t.Fatalf("got %d items (Taken %d), want 4: %v", len(got), in.Taken(), got)
	}
	if raw := byValue["evil.com"].Context["raw"]; raw != "evil[.]com" {
		t.Errorf("evil.com raw = %q, want the defanged original", raw)
	}
	if raw := byValue["http://evil.com/x"].Context["raw"]; raw != "hxxp://evil[.]com/x" {
		t.Errorf("url raw = %q", raw)
	}
}

// TestIntakeKeepsEveryIOCOfAMillion feeds a million distinct IOCs, with
// repeats, through the CLI's path (Feed from a file) and counts what comes
// out: every distinct IOC exactly once. The CLI once deduplicated by a
// 64-bit hash, which could drop an IOC on a collision.
func TestIntakeKeepsEveryIOCOfAMillion(t *testing.T) {
	const n = 1_000_000
	var b strings.Builder
	b.Grow(n * 16)
	for i := range n {
		fmt.Fprintf(&b, "1.%d.%d.%d\n", i>>16, (i>>8)&255, i&255)
		if i%1000 == 0 {
			b.WriteString("1.0.0.0\n") // a repeat
		}
	}
	path := filepath.Join(t.TempDir(), "million.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in := &Intake{TLP: tlp.Amber}
	items := make(chan Item, 1024)
	errc := make(chan error, 1)
	go func() {
		defer close(items)
		errc <- in.Feed(t.Context(), []ioc.IOC{{Type: ioc.IPv4, Value: "1.0.0.1"}}, []string{path, "/nonexistent/iocs.txt"}, nil, items)
	}()
	seen := make(map[string]bool, n)
	for it := range items {
		if seen[it.IOC.Value] {
			t.Fatalf("%s emitted twice", it.IOC.Value)
		}
		seen[it.IOC.Value] = true
	}
	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/iocs.txt") {
		t.Errorf("Feed error = %v, want the missing file named", err)
	}
	if len(seen) != n || in.Taken() != n || !in.Complete() {
		t.Fatalf("%d distinct IOCs out (Taken %d, Complete %v), want %d", len(seen), in.Taken(), in.Complete(), n)
	}
}
