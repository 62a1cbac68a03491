package input

import (
	"slices"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

func TestPatternIOCs(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    []ioc.IOC
		wantErr bool
	}{
		{"ipv4", "[ipv4-addr:value = '198.51.100.7']", []ioc.IOC{{Type: ioc.IPv4, Value: "198.51.100.7"}}, false},
		{"or and dedupe", "[domain-name:value = 'Evil.Example.com' OR domain-name:value = 'evil.example.com'] OR [url:value = 'http://evil.example.com/a']",
			[]ioc.IOC{{Type: ioc.Domain, Value: "evil.example.com"}, {Type: ioc.URL, Value: "http://evil.example.com/a"}}, false},
		{"hash", "[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']",
			[]ioc.IOC{{Type: ioc.SHA256, Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}, false},
		{"network traffic any ip", "[network-traffic:dst_ref.value = '2001:db8::1' AND network-traffic:src_ref.value = 'not-an-ip.example']",
			[]ioc.IOC{{Type: ioc.IPv6, Value: "2001:db8::1"}}, false},
		{"invalid value dropped", "[ipv4-addr:value = '999.1.1.1']", nil, false},
		{"negation and like skipped", "[domain-name:value NOT = 'a.example.com' AND domain-name:value LIKE '%.example.com']", nil, false},
		{"in list", "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
			[]ioc.IOC{{Type: ioc.IPv4, Value: "192.0.2.1"}, {Type: ioc.IPv4, Value: "192.0.2.2"}}, false},
		{"unbalanced keeps what it found", "[ipv4-addr:value = '192.0.2.9'", []ioc.IOC{{Type: ioc.IPv4, Value: "192.0.2.9"}}, true},
		{"empty", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PatternIOCs(tt.pattern)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMarkingTLP(t *testing.T) {
	const green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5055e9"
	const red2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
	const custom = "marking-definition--00000000-0000-4000-8000-000000000001"
	extra := map[string]tlp.Level{custom: tlp.AmberStrict}
	tests := []struct {
		refs []string
		want string
	}{
		{nil, ""},
		{[]string{"marking-definition--unknown"}, ""},
		{[]string{green}, "green"},
		{[]string{green, red2}, "red"},
		{[]string{custom, green}, "amber+strict"},
	}
	for _, tt := range tests {
		if got := MarkingTLP(tt.refs, extra); got != tt.want {
			t.Errorf("MarkingTLP(%v) = %q, want %q", tt.refs, got, tt.want)
		}
	}
}
