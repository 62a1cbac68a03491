package input

import (
	"testing"
)

func TestReadSTIXBundle(t *testing.T) {
	items, err := read(t, "bundle.json", mustRead(t, "testdata/bundle.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items,
		"ipv4:185.220.101.47", "domain:secure-paypa1.com",
		"sha256:d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616",
		"url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c",
		"email:service@secure-paypa1.com", "ipv4:91.215.85.17", "ipv4:45.95.147.236",
		"ipv6:2a02:c7f:dead:beef::1", "domain:cdn-update.secure-paypa1.com", "email:resolution@account-verify-center.net",
		"md5:6a866ee787c6ef8cadd92b515b860ba2", "sha1:c5ac3ae379247957f07a16cc1ee9e13b66d81da1",
		"asn:AS208294", "cve:CVE-2024-3400")
	for _, c := range []struct{ ioc, path, tlp string }{
		{"ipv4:185.220.101.47", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "amber"},
		{"url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c", "indicator--c1f0a2e4-8b7d-4f5e-9a3c-2d1e0f9b8a7c", "red"},
		{"ipv4:45.95.147.236", "indicator--0b6f3b8e-1c4a-4d8e-b0f5-7a9c2e6d1f34", "clear"},
		{"ipv6:2a02:c7f:dead:beef::1", "ipv6-addr--1b2c3d4e-0000-4000-8000-000000000001", ""},
	} {
		it := find(t, items, c.ioc)
		if it.Path != c.path || it.TLP != c.tlp {
			t.Errorf("%s: path %q tlp %q, want %q %q", c.ioc, it.Path, it.TLP, c.path, c.tlp)
		}
	}
}

func TestParsePattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []string
		err     bool
	}{
		{`[ipv4-addr:value = '1.2.3.4']`, []string{"ipv4 1.2.3.4"}, false},
		{`[domain-name:value = 'it\'s.com' OR url:value = 'http://x.com/a\\b']`, []string{"domain it's.com", `url http://x.com/a\b`}, false},
		{`[file:hashes.MD5 = 'abc' AND file:hashes.'SHA-1' = 'def' AND file:hashes.'SHA3-256' = 'x']`, []string{"md5 abc", "sha1 def"}, false},
		{`[ipv4-addr:value NOT = '1.1.1.1'] AND [ipv4-addr:value != '2.2.2.2'] AND [url:value LIKE 'http://%']`, nil, false},
		{`[ipv4-addr:value ISSUBSET '10.0.0.0/8']`, nil, false},
		{`[autonomous-system:number = 15169]`, []string{"asn AS15169"}, false},
		{`[email-message:to_refs[*].value = 'a@b.com' AND email-message:sender_ref.value = 'c@d.com']`, []string{"email c@d.com"}, false},
		{`[file:created > t'2016-11-22T00:00:00Z'] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'`, nil, false},
		{`[ipv4-addr:value = '1.2.3.4'`, []string{"ipv4 1.2.3.4"}, true},
		{`[ipv4-addr:value = '1.2.3.4]`, nil, true},
		{`ipv4-addr:value = '1.2.3.4'`, []string{"ipv4 1.2.3.4"}, true},
		{`[a:b = 'x'] )`, nil, true},
		{`[a:b ! 'x']`, nil, true},
	} {
		cmps, err := parsePattern(tc.pattern)
		var got []string
		for _, c := range cmps {
			got = append(got, string(c.t)+" "+c.v)
		}
		if len(got) != len(tc.want) || (err != nil) != tc.err {
			t.Errorf("parsePattern(%q) = %q, %v; want %q, error %v", tc.pattern, got, err, tc.want, tc.err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("parsePattern(%q) = %q, want %q", tc.pattern, got, tc.want)
			}
		}
	}
}

func TestReadSTIXErrors(t *testing.T) {
	// A bad pattern is reported with its object id; the rest is read.
	in := `{"type":"bundle","id":"bundle--1","objects":[
 {"type":"indicator","id":"indicator--bad","pattern":"[ipv4-addr:value = '1.2.3.4'"},
 {"type":"domain-name","id":"domain-name--1","value":"evil-c2.com"}]}`
	items, err := read(t, "b.json", []byte(in), Options{Format: STIX})
	assertInputError(t, err, "b.json", ErrMalformed, "stix: indicator--bad: ", "pattern", "unclosed")
	assertSet(t, items, "ipv4:1.2.3.4", "domain:evil-c2.com")

	for _, tc := range []struct{ in, want string }{
		{`{"type":"bundle","objects":[{"type":"indicator",]}`, "line 1, column 50"},
		{"{\"type\":\"bundle\",\n\"objects\": {\"type\":\"x\"}}", "not a STIX 2.1 bundle"},
		{`{"type":"bundle","objects":[{"id":"x"}]}`, "objects[0]: malformed input: STIX object without a type"},
		{`{"hello":"world"}`, "not a STIX bundle"},
		{`{"type":"bundle","objects":[`, "unexpected end"},
		{`[{"type":"ipv4-addr","value":7}]`, ""},
	} {
		_, err := read(t, "s.json", []byte(tc.in), Options{Format: STIX})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.in, err)
			}
			continue
		}
		assertInputError(t, err, "s.json", ErrMalformed, tc.want)
	}
}

func TestReadSTIXTooLarge(t *testing.T) {
	_, err := read(t, "big.json", mustRead(t, "testdata/bundle.json"), Options{Format: STIX, MaxSize: 1000})
	assertInputError(t, err, "big.json", ErrTooLarge, "more than 1000 bytes")
}
