package input

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

// comparison is one "object-path = value" of a STIX pattern that names an
// IOC.
type comparison struct {
	t ioc.Type
	v string
}

type patTokKind int

const (
	tokWord   patTokKind = iota // object path, keyword or number
	tokString                   // plain '...' literal
	tokOther                    // t'...', h'...', b'...' literals
	tokOp                       // = != < <= > >=
	tokPunct                    // [ ] ( ) ,
)

type patTok struct {
	kind patTokKind
	s    string
}

// parsePattern returns the comparisons of a STIX 2.1 pattern that name an
// IOC exactly: "=" against a string (or a number for autonomous-system), and
// each string of an IN list. Negated comparisons, LIKE and MATCHES are not
// IOCs and are skipped. OR, AND, FOLLOWEDBY and qualifiers need no special
// handling: every positive comparison is an indicator to look up. The
// comparisons found are returned even with an error.
func parsePattern(p string) ([]comparison, error) {
	toks, err := lexPattern(p)
	var out []comparison
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokWord || !strings.Contains(t.s, ":") {
			continue
		}
		typ := patternPathType(t.s)
		j := i + 1
		if j < len(toks) && toks[j].kind == tokWord && strings.EqualFold(toks[j].s, "NOT") {
			continue
		}
		if typ == "" || j >= len(toks) {
			continue
		}
		switch op := toks[j]; {
		case op.kind == tokOp && op.s == "=" && j+1 < len(toks):
			v := toks[j+1]
			if v.kind == tokString || (typ == ioc.ASN && v.kind == tokWord) {
				out = append(out, comparison{typ, asnPrefix(typ, v.s)})
			}
		case op.kind == tokWord && strings.EqualFold(op.s, "IN") && j+1 < len(toks) && toks[j+1].s == "(":
			for k := j + 2; k < len(toks) && toks[k].s != ")"; k++ {
				if toks[k].kind == tokString || (typ == ioc.ASN && toks[k].kind == tokWord) {
					out = append(out, comparison{typ, asnPrefix(typ, toks[k].s)})
				}
			}
		}
	}
	if err == nil && len(toks) > 0 && toks[0].s != "[" && toks[0].s != "(" {
		err = errors.New("a pattern starts with '['")
	}
	return out, err
}

func asnPrefix(t ioc.Type, v string) string {
	if t == ioc.ASN {
		return "AS" + v
	}
	return v
}

// anyIP marks a comparison whose value may be an IPv4 or IPv6 address.
const anyIP ioc.Type = "ip"

// patternPathType maps an object path to the IOC type its value is.
func patternPathType(path string) ioc.Type {
	obj, prop, _ := strings.Cut(strings.ToLower(path), ":")
	switch obj {
	case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr":
		if prop == "value" {
			return scoTypes[obj]
		}
	case "email-message":
		if strings.HasSuffix(prop, ".value") && (strings.HasPrefix(prop, "from_ref") || strings.HasPrefix(prop, "sender_ref")) {
			return ioc.Email
		}
	case "file", "artifact":
		if h, ok := strings.CutPrefix(prop, "hashes."); ok {
			return hashType(h)
		}
	case "network-traffic":
		if prop == "src_ref.value" || prop == "dst_ref.value" {
			return anyIP
		}
	case "autonomous-system":
		if prop == "number" {
			return ioc.ASN
		}
	}
	return ""
}

// lexPattern splits a pattern into tokens and checks that its brackets
// balance and its strings end.
func lexPattern(p string) ([]patTok, error) {
	var toks []patTok
	var stack []byte
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[' || c == '(':
			stack = append(stack, c)
			toks = append(toks, patTok{tokPunct, string(c)})
			i++
		case c == ']' || c == ')':
			want := byte('[')
			if c == ')' {
				want = '('
			}
			if len(stack) == 0 || stack[len(stack)-1] != want {
				return toks, fmt.Errorf("unbalanced %q at byte %d", c, i)
			}
			stack = stack[:len(stack)-1]
			toks = append(toks, patTok{tokPunct, string(c)})
			i++
		case c == ',':
			toks = append(toks, patTok{tokPunct, ","})
			i++
		case c == '\'':
			s, n, err := patString(p[i:])
			if err != nil {
				return toks, fmt.Errorf("%v at byte %d", err, i)
			}
			toks = append(toks, patTok{tokString, s})
			i += n
		case (c == 't' || c == 'h' || c == 'b') && i+1 < len(p) && p[i+1] == '\'',
			c == 'b' && strings.HasPrefix(p[i:], "b64'"):
			k := strings.IndexByte(p[i:], '\'')
			s, n, err := patString(p[i+k:])
			if err != nil {
				return toks, fmt.Errorf("%v at byte %d", err, i)
			}
			toks = append(toks, patTok{tokOther, s})
			i += k + n
		case c == '=' || c == '!' || c == '<' || c == '>':
			n := 1
			if i+1 < len(p) && p[i+1] == '=' {
				n = 2
			}
			if c == '!' && n == 1 {
				return toks, fmt.Errorf("unexpected '!' at byte %d", i)
			}
			toks = append(toks, patTok{tokOp, p[i : i+n]})
			i += n
		case isWordByte(c):
			j := i
			for j < len(p) {
				switch {
				case isWordByte(p[j]):
					j++
				case p[j] == '\'' && j > i && p[j-1] == '.': // hashes.'SHA-256'
					_, n, err := patString(p[j:])
					if err != nil {
						return toks, fmt.Errorf("%v at byte %d", err, j)
					}
					j += n
				case p[j] == '[' && j+2 < len(p) && strings.Contains(p[i:j], ":"): // refs[*]
					k := strings.IndexByte(p[j:], ']')
					if k < 0 {
						return toks, fmt.Errorf("unbalanced '[' at byte %d", j)
					}
					j += k + 1
				default:
					goto done
				}
			}
		done:
			toks = append(toks, patTok{tokWord, p[i:j]})
			i = j
		default:
			return toks, fmt.Errorf("unexpected %q at byte %d", c, i)
		}
	}
	if len(stack) > 0 {
		return toks, fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == ':' || c == '.' || c == '*'
}

// patString reads a '...' literal at the start of s, undoing \' and \\; it
// returns the value and the bytes consumed.
func patString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '\'':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", len(s), errors.New("unterminated string")
}

// sortedKeys returns m's keys in order, for a stable output.
func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
