package fakeintel

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

// The default scenario's IOCs.
var (
	// MaliciousIP is a Tor exit node that several providers flag.
	MaliciousIP = ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}
	// SuspiciousIP is a mass scanner with a handful of reports.
	SuspiciousIP = ioc.IOC{Type: ioc.IPv4, Value: "45.83.64.1"}
	// BenignIP is Google Public DNS: GreyNoise RIOT, AbuseIPDB allow-listed,
	// VirusTotal 0/90.
	BenignIP = ioc.IOC{Type: ioc.IPv4, Value: "8.8.8.8"}
	// MaliciousDomain is a phishing domain.
	MaliciousDomain = ioc.IOC{Type: ioc.Domain, Value: "login-example-support.com"}
	// BenignDomain is a top site: VirusTotal 0/90, on OTX's allow-list.
	BenignDomain = ioc.IOC{Type: ioc.Domain, Value: "google.com"}
	// MaliciousURL is an Emotet download URL, online.
	MaliciousURL = ioc.IOC{Type: ioc.URL, Value: "http://sskymedia.com/VMYB-ht_JAQo-gi/INV/"}
	// MaliciousSHA256 is an AgentTesla sample (MaliciousMD5 and MaliciousSHA1
	// are its other hashes).
	MaliciousSHA256 = ioc.IOC{Type: ioc.SHA256, Value: "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d"}
	MaliciousMD5    = ioc.IOC{Type: ioc.MD5, Value: "2f6432c5af8d10b04caed90d410ec7ad"}
	MaliciousSHA1   = ioc.IOC{Type: ioc.SHA1, Value: "4b1fc10818dd534922feef4d521eb3574337e3c0"}
)

// DefaultVerdicts is the built-in scenario: one malicious IP, domain, URL and
// sample (by each of its hashes), a suspicious IP, and two benign IOCs
// (8.8.8.8 and google.com). Everything else is unknown.
func DefaultVerdicts() map[ioc.IOC]Class {
	return map[ioc.IOC]Class{
		MaliciousIP: Malicious, SuspiciousIP: Suspicious, BenignIP: Benign,
		MaliciousDomain: Malicious, BenignDomain: Benign, MaliciousURL: Malicious,
		MaliciousSHA256: Malicious, MaliciousMD5: Malicious, MaliciousSHA1: Malicious,
	}
}

// network is what the fake says about an IP's network.
type network struct {
	ASN     int
	Owner   string
	Country string
	CIDR    string
	ISP     string
	Domain  string
	Usage   string
	Tor     bool
}

func networkOf(ip string) network {
	switch ip {
	case MaliciousIP.Value:
		return network{208294, "Zwiebelfreunde e.V.", "DE", "185.220.101.0/24", "Zwiebelfreunde e.V.", "zwiebelfreunde.de",
			"Data Center/Web Hosting/Transit", true}
	case SuspiciousIP.Value:
		return network{208843, "Alpha Strike Labs GmbH", "DE", "45.83.64.0/22", "Alpha Strike Labs GmbH", "alphastrike.io",
			"Data Center/Web Hosting/Transit", false}
	case BenignIP.Value:
		return network{15169, "GOOGLE", "US", "8.8.8.0/24", "Google LLC", "google.com", "Content Delivery Network", false}
	}
	return network{64500, "EXAMPLE-NET", "NL", ip + "/32", "Example Hosting B.V.", "example.net", "Data Center/Web Hosting/Transit", false}
}

// sample is what the fake says about a file.
type sample struct {
	MD5, SHA1, SHA256 string
	Name, Family      string
	Size              int
	Mime, Kind        string
}

// sampleOf returns the sample a hash names: the default scenario's
// AgentTesla sample for any of its hashes, or a made-up one.
func sampleOf(h string) sample {
	h = strings.ToLower(h)
	switch h {
	case MaliciousMD5.Value, MaliciousSHA1.Value, MaliciousSHA256.Value:
		return sample{MaliciousMD5.Value, MaliciousSHA1.Value, MaliciousSHA256.Value,
			"COPY-SCANB840284-IMG-2020-13-02-DOCUMENT-PDF.exe", "AgentTesla", 472064, "application/x-dosexec", "exe"}
	}
	m, s1, s2 := md5.Sum([]byte(h)), sha1.Sum([]byte(h)), sha256.Sum256([]byte(h))
	out := sample{hex.EncodeToString(m[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:]),
		"invoice.exe", "Formbook", 311296, "application/x-dosexec", "exe"}
	switch len(h) {
	case 32:
		out.MD5 = h
	case 40:
		out.SHA1 = h
	case 64:
		out.SHA256 = h
	}
	return out
}

// host returns the host of a URL value, or "".
func hostOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	h, _, _ := strings.Cut(rest, "/")
	h, _, _ = strings.Cut(h, "?")
	if a, err := netip.ParseAddrPort(h); err == nil {
		return a.Addr().String()
	}
	if i := strings.LastIndexByte(h, ':'); i > 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}
