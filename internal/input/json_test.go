package input

import (
	"strings"
	"testing"
)

func TestReadJSONSplunk(t *testing.T) {
	items, err := read(t, "splunk_alert.json", mustRead(t, "testdata/splunk_alert.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// results_link points at the SIEM itself and is skipped.
	assertSet(t, items,
		"ipv4:185.220.101.47", "ipv4:10.20.4.117", "domain:ws-fin-0117.northwind.local",
		"url:https://cdn-update.secure-paypa1.com/payload/stage2.bin", "domain:cdn-update.secure-paypa1.com",
		"sha256:d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616")
	for ioc, path := range map[string]string{
		"ipv4:185.220.101.47": "$.result.src_ip",
		"url:https://cdn-update.secure-paypa1.com/payload/stage2.bin":             "$.result.url",
		"sha256:d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616": "$.result.file_hash",
	} {
		if got := find(t, items, ioc).Path; got != path {
			t.Errorf("%s: path %q, want %q", ioc, got, path)
		}
	}
	if it := find(t, items, "url:https://cdn-update.secure-paypa1.com/payload/stage2.bin"); it.Raw != "hxxps://cdn-update.secure-paypa1[.]com/payload/stage2.bin" {
		t.Errorf("raw = %q", it.Raw)
	}
}

func TestReadJSONElastic(t *testing.T) {
	items, err := read(t, "alert.json", mustRead(t, "testdata/elastic_alert.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items,
		"ipv4:10.20.4.117", "ipv6:fe80::1c2b:3ff:fe4a:9d01", "url:http://update-check.xyz/a.ps1", "domain:update-check.xyz",
		"sha1:3f786850e387550fdab836ed7e6dc881de23001b", "ipv4:91.215.85.17", "asn:AS44477",
		"cve:CVE-2024-3400", "domain:evil.example.net")
	for ioc, path := range map[string]string{
		"ipv6:fe80::1c2b:3ff:fe4a:9d01":                 "$._source.host.ip[1]",
		"sha1:3f786850e387550fdab836ed7e6dc881de23001b": "$._source.process.hash.sha1",
		"asn:AS44477":             "$._source.destination.as.number",
		"domain:evil.example.net": "$._source.tags[1]",
	} {
		if got := find(t, items, ioc).Path; got != path {
			t.Errorf("%s: path %q, want %q", ioc, got, path)
		}
	}
}

func TestReadJSONLinesAndKeys(t *testing.T) {
	in := `{"src":"1.1.1.1"}
{"dst":"8.8.8.8","weird key":{"185.220.101.47":true,"host.name":"x","http://evil.com/":1}}
"9.9.9.9"
`
	items, err := read(t, "events.jsonl", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items, "ipv4:1.1.1.1", "ipv4:8.8.8.8", "ipv4:185.220.101.47", "url:http://evil.com/", "domain:evil.com", "ipv4:9.9.9.9")
	for ioc, path := range map[string]string{
		"ipv4:1.1.1.1":        "$.src",
		"ipv4:8.8.8.8":        "record 2: $.dst",
		"ipv4:185.220.101.47": `record 2: $["weird key"]["185.220.101.47"] (key)`,
		"domain:evil.com":     `record 2: $["weird key"]["http://evil.com/"] (key)`,
		"ipv4:9.9.9.9":        "record 3: $",
	} {
		if got := find(t, items, ioc).Path; got != path {
			t.Errorf("%s: path %q, want %q", ioc, got, path)
		}
	}
}

func TestReadJSONMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		items    []string
	}{
		{"bad.json", "{\"a\": \"1.1.1.1\",\n \"b\": \"8.8.8.8\",\n \"c\": nope}", []string{"line 3, column", "invalid character 'o'"}, []string{"ipv4:1.1.1.1", "ipv4:8.8.8.8"}},
		{"cut.json", `{"a": ["1.1.1.1", "8.8.8.8"`, []string{"ends in the middle"}, []string{"ipv4:1.1.1.1", "ipv4:8.8.8.8"}},
		{"deep.json", strings.Repeat("[", 5000), []string{"nested deeper than 1000"}, nil},
		{"-", `{"a" "b"}`, []string{"line 1, column 6", "after object key"}, nil},
	} {
		items, err := read(t, tc.name, []byte(tc.in), Options{Format: JSON})
		name := tc.name
		if name == "-" {
			name = "<stdin>"
		}
		assertInputError(t, err, name, ErrMalformed, append(tc.want, "json: ")...)
		assertSet(t, items, tc.items...)
	}
}
