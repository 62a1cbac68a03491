package input

import (
	"testing"
)

func TestReadMISPEvent(t *testing.T) {
	items, err := read(t, "event.json", mustRead(t, "testdata/misp_event.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The link (a reference), the comment and the deleted attribute are
	// not IOCs.
	assertSet(t, items,
		"ipv4:185.220.101.47", "domain:secure-paypa1.com",
		"url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c",
		"sha256:d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616",
		"ipv4:91.215.85.17", "email:service@secure-paypa1.com", "cve:CVE-2024-3400",
		"domain:cdn-update.secure-paypa1.com", "ipv6:2a02:c7f:dead:beef::1",
		"sha1:c5ac3ae379247957f07a16cc1ee9e13b66d81da1", "asn:AS208294")
	for _, c := range []struct {
		ioc, path, tlp string
		ctx            map[string]string
	}{
		{"ipv4:185.220.101.47", "a1000000-0000-4000-8000-000000000001", "amber",
			map[string]string{"misp_type": "ip-src", "to_ids": "true", "category": "Network activity"}},
		{"domain:secure-paypa1.com", "a1000000-0000-4000-8000-000000000002", "green", nil},
		{"url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c", "a1000000-0000-4000-8000-000000000003", "amber",
			map[string]string{"to_ids": "true"}},
		{"sha256:d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616", "a1000000-0000-4000-8000-000000000004", "amber",
			map[string]string{"filename": "PayPal_Case_PP-4471-2290.zip", "misp_type": "filename|sha256"}},
		{"ipv4:91.215.85.17", "a1000000-0000-4000-8000-000000000005", "red", map[string]string{"to_ids": "false"}},
		{"ipv6:2a02:c7f:dead:beef::1", "a1000000-0000-4000-8000-000000000011", "red", nil}, // unknown tlp: tag
		{"sha1:c5ac3ae379247957f07a16cc1ee9e13b66d81da1", "a2000000-0000-4000-8000-000000000001", "amber",
			map[string]string{"misp_object": "file"}},
	} {
		it := find(t, items, c.ioc)
		if it.Path != c.path || it.TLP != c.tlp {
			t.Errorf("%s: path %q tlp %q, want %q %q", c.ioc, it.Path, it.TLP, c.path, c.tlp)
		}
		for k, v := range c.ctx {
			if it.Context[k] != v {
				t.Errorf("%s: context[%s] = %q, want %q", c.ioc, k, it.Context[k], v)
			}
		}
	}
}

func TestReadMISPShapes(t *testing.T) {
	for _, in := range []string{
		`{"response":[{"Event":{"Attribute":[{"type":"ip-dst","value":"8.8.8.8"}]}}]}`,
		`[{"Event":{"Attribute":[{"type":"ip-dst","value":"8.8.8.8"}]}}]`,
		`{"info":"bare","Attribute":[{"type":"ip-dst","value":"8.8.8.8"}]}`,
	} {
		items, err := read(t, "e.json", []byte(in), Options{Format: MISP})
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		assertSet(t, items, "ipv4:8.8.8.8")
		if items[0].TLP != "" {
			t.Errorf("untagged attribute has TLP %q", items[0].TLP)
		}
	}
}

func TestReadMISPErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\"Event\": {\n\"Attribute\": [{\"type\": \"ip-dst\" \"value\": \"1.1.1.1\"}]}}", "line 2, column 34"},
		{`{"Event": {"Attribute": {"type": "ip-dst"}}}`, "not a MISP event"},
		{`{"foo": 1}`, "not a MISP event"},
		{`{"Event": {"Attribute": [`, "unexpected end"},
	} {
		_, err := read(t, "m.json", []byte(tc.in), Options{Format: MISP})
		assertInputError(t, err, "m.json", ErrMalformed, "misp: ", tc.want)
	}
}
