package input

import (
	"fmt"
	"strings"
	"testing"
)

func TestReadCSVHeader(t *testing.T) {
	in := "first_seen,indicator,description\n" +
		"2025-06-03,185.220.101.47,Tor exit seen at 10.0.0.1\n" +
		"2025-06-03,hxxps://login.secure-paypa1[.]com/webapps/auth,phishing kit\n" +
		"2025-06-03,\"d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616\",\"zip, attached\"\n"
	items, err := read(t, "feed.csv", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items, "ipv4:185.220.101.47", "url:https://login.secure-paypa1.com/webapps/auth", "domain:login.secure-paypa1.com",
		"sha256:d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616")
	if p := find(t, items, "url:https://login.secure-paypa1.com/webapps/auth").Path; p != "row 3 col indicator" {
		t.Errorf("path %q", p)
	}
}

func TestReadCSVColumnOption(t *testing.T) {
	in := "host;note\nevil-c2.com;see 8.8.8.8\nbad-cdn.net;x\n"
	for col, want := range map[string][]string{
		"note": {"ipv4:8.8.8.8"},
		"NOTE": {"ipv4:8.8.8.8"},
		"1":    {"domain:evil-c2.com", "domain:bad-cdn.net"},
		"2":    {"ipv4:8.8.8.8"},
	} {
		items, err := read(t, "x.csv", []byte(in), Options{Column: col})
		if err != nil {
			t.Fatalf("column %s: %v", col, err)
		}
		assertSet(t, items, want...)
	}
	_, err := read(t, "x.csv", []byte(in), Options{Column: "url"})
	assertInputError(t, err, "x.csv", nil, `column "url"`)
}

func TestReadCSVSniffedColumn(t *testing.T) {
	// No telling header: the second column is the one whose cells parse.
	var b strings.Builder
	b.WriteString("when,what,who\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "2025-06-%02d,45.95.147.%d,analyst %d mentioned 1.1.1.1\n", i%28+1, i, i)
	}
	items, err := read(t, "plain.csv", []byte(b.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 60 {
		t.Fatalf("got %d items, want the 60 of column 2: %q", len(items), set(items))
	}
	if items[59].Path != "row 61 col what" {
		t.Errorf("last path %q", items[59].Path)
	}
	// Without a header the first row is data.
	items, err = read(t, "noheader.csv", []byte("evil-c2.com,x\nbad-cdn.net,y\n"), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items, "domain:evil-c2.com", "domain:bad-cdn.net")
	if items[0].Path != "row 1 col 1" {
		t.Errorf("path %q", items[0].Path)
	}
}

func TestReadCSVMalformed(t *testing.T) {
	in := "ioc\n8.8.8.8\n\"1.1.1.1\" x\"\n9.9.9.9\n"
	items, err := read(t, "bad.csv", []byte(in), Options{})
	assertInputError(t, err, "bad.csv", ErrMalformed, "csv: row 3 (line 3, column", "quote")
	assertSet(t, items, "ipv4:8.8.8.8")

	var b strings.Builder
	b.WriteString("ioc\n")
	for i := 0; i < 100; i++ {
		b.WriteString("8.8.8.8\n")
	}
	b.WriteString("\"unterminated\n")
	_, err = read(t, "late.csv", []byte(b.String()), Options{})
	assertInputError(t, err, "late.csv", ErrMalformed, "row 102")
}
