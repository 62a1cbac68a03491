package extract

import (
	"encoding/binary"
	"slices"
	"unicode/utf8"

	"github.com/iocane/iocane/internal/ioc"
)

// appendRecordJSON appends r as one JSON object, exactly as encoding/json
// with SetEscapeHTML(false) writes it (without the newline). Extraction
// prints hundreds of thousands of records a second; reflection-based
// encoding was a seventh of the command's CPU time.
func appendRecordJSON(b []byte, r Record) []byte {
	var e recordEncoder
	return e.append(b, &r)
}

// recordEncoder is appendRecordJSON with the last source name kept
// encoded: every record of a file carries the same one.
type recordEncoder struct {
	source string
	field  []byte // ,"source":"..." for source
}

func (e *recordEncoder) append(b []byte, r *Record) []byte {
	if p, ok := typePrefix(r.Type); ok {
		b = append(b, p...)
	} else {
		b = append(b, `{"type":`...)
		b = appendJSONString(b, string(r.Type))
		b = append(b, `,"value":`...)
	}
	b = appendJSONString(b, r.Value)
	b = appendField(b, "raw", r.Raw)
	if r.Source != e.source || e.field == nil {
		e.source, e.field = r.Source, appendField([]byte{}, "source", r.Source)
	}
	b = append(b, e.field...)
	b = appendField(b, "path", r.Path)
	if r.Internal {
		b = append(b, `,"internal":true`...)
	}
	b = appendField(b, "internal_reason", r.InternalReason)
	b = appendField(b, "tlp", r.TLP)
	if len(r.Context) > 0 {
		b = append(b, `,"context":{`...)
		keys := make([]string, 0, len(r.Context))
		for k := range r.Context {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, r.Context[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// typePrefix returns a known type's record start, {"type":"ipv4","value":
func typePrefix(t ioc.Type) (string, bool) {
	switch t {
	case ioc.IPv4:
		return `{"type":"ipv4","value":`, true
	case ioc.IPv6:
		return `{"type":"ipv6","value":`, true
	case ioc.Domain:
		return `{"type":"domain","value":`, true
	case ioc.URL:
		return `{"type":"url","value":`, true
	case ioc.Email:
		return `{"type":"email","value":`, true
	case ioc.MD5:
		return `{"type":"md5","value":`, true
	case ioc.SHA1:
		return `{"type":"sha1","value":`, true
	case ioc.SHA256:
		return `{"type":"sha256","value":`, true
	case ioc.SHA512:
		return `{"type":"sha512","value":`, true
	case ioc.CVE:
		return `{"type":"cve","value":`, true
	case ioc.ASN:
		return `{"type":"asn","value":`, true
	case ioc.BTC:
		return `{"type":"btc","value":`, true
	}
	return "", false
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the bytes a JSON string holds as they are: printable
// ASCII but '"' and '\\'.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json does without HTML
// escaping: invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	if jsonPlain(s) { // nearly every IOC value
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return appendJSONEscaped(b, s)
}

// jsonPlain reports whether s is printable ASCII without '"' or '\\', and
// so needs no escaping. It tests eight bytes at a time, the last eight of a
// longer string overlapping the ones before.
func jsonPlain(s string) bool {
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if !jsonSafe[s[i]] {
				return false
			}
		}
		return true
	}
	for i := 0; i+8 <= len(s); i += 8 {
		if !plain8(s[i : i+8]) {
			return false
		}
	}
	return plain8(s[len(s)-8:])
}

// plain8 reports whether none of the eight bytes of s is below 0x20, '"',
// '\\' or from 0x80 (zero-byte tests on v, v^'"' and v^'\\').
func plain8(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	v := binary.LittleEndian.Uint64([]byte(s))
	q, bs := v^'"'*ones, v^'\\'*ones
	return ((v-0x20*ones)|(q-ones)&^q|(bs-ones)&^bs|v)&highs == 0
}

// appendJSONEscaped is appendJSONString for a string that needs escaping.
func appendJSONEscaped(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight safe bytes at a time: none below 0x20, '"', '\\' or
		// from 0x80 (zero-byte tests on v, v^'"' and v^'\\').
		for i+8 <= len(s) {
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			v := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
			q, bs := v^'"'*ones, v^'\\'*ones
			if ((v-0x20*ones)|(q-ones)&^q|(bs-ones)&^bs|v)&highs != 0 {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
