package output

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
)

// UUID5 returns the name-based (SHA-1, version 5) UUID of name in the
// namespace given in canonical text form, RFC 9562 section 5.5. STIX uses it
// for deterministic ids; the other formats for stable document ids. It
// panics on a malformed namespace, a programming error.
func UUID5(namespace, name string) string { return uuid5(mustUUID(namespace), name) }

// uuid is a 16-byte RFC 9562 UUID.
type uuid [16]byte

// mustUUID parses a UUID in its canonical text form; it panics on a
// malformed constant.
func mustUUID(s string) uuid {
	var u uuid
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		panic(fmt.Sprintf("output: bad uuid %q", s))
	}
	b, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36])
	if err != nil {
		panic(fmt.Sprintf("output: bad uuid %q", s))
	}
	copy(u[:], b)
	return u
}

// uuid5 returns the name-based (SHA-1) UUID of name in namespace ns, RFC 9562
// section 5.5.
func uuid5(ns uuid, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u uuid
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

func (u uuid) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}
