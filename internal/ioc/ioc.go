package ioc

// Type is the kind of an indicator. The names are a contract (docs/design.md):
// they appear in JSON output, in the CLI and in provider routing tables.
type Type string

// The IOC types iocane knows.
const (
	IPv4   Type = "ipv4"
	IPv6   Type = "ipv6"
	Domain Type = "domain"
	URL    Type = "url"
	Email  Type = "email"
	MD5    Type = "md5"
	SHA1   Type = "sha1"
	SHA256 Type = "sha256"
	SHA512 Type = "sha512"
	CVE    Type = "cve"
	ASN    Type = "asn"
	BTC    Type = "btc"
)

// Types lists every Type in a stable order.
var Types = []Type{IPv4, IPv6, Domain, URL, Email, MD5, SHA1, SHA256, SHA512, CVE, ASN, BTC}

// Valid reports whether t is one of the known types.
func (t Type) Valid() bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// IsHash reports whether t is a file hash type.
func (t Type) IsHash() bool {
	return t == MD5 || t == SHA1 || t == SHA256 || t == SHA512
}

// IsIP reports whether t is an IP address type.
func (t Type) IsIP() bool { return t == IPv4 || t == IPv6 }

// IOC is one normalised indicator. Value is always in canonical form for its
// Type (see Normalize), so two IOCs are the same indicator exactly when they
// are equal.
type IOC struct {
	Type  Type   `json:"type"`
	Value string `json:"value"`
}

// String returns "type:value".
func (i IOC) String() string { return string(i.Type) + ":" + i.Value }
