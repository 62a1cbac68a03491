package ioc

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// edit records that output position out corresponds to input position in.
// A refanged buffer carries a sorted list of them so that every match found
// in the refanged text can be mapped back to the bytes it came from.
type edit struct{ out, in int }

// refanger undoes the context-free defanging forms: bracketed dots, colons,
// slashes and at-signs, backslash escapes, "h**p" and fullwidth punctuation.
// It reuses its buffers between calls.
type refanger struct {
	out   []byte
	edits []edit
}

// trigger marks the bytes at which a context-free defang form can start.
var trigger = func() (t [256]bool) {
	for _, c := range []byte("[({\\*\xef") {
		t[c] = true
	}
	return t
}()

// mayTrigger reports whether any of the eight bytes in v may be a trigger
// byte; it may answer true for a word without one. '[' and '{' are the
// bytes whose value OR 0x20 is '{'; '(' and '*' those whose value AND NOT
// 0x02 is '('.
func mayTrigger(v uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(y uint64) uint64 { return (y - ones) &^ y & highs }
	return zero((v|0x20*ones)^'{'*ones)|zero((v&^(0x02*ones))^'('*ones)|
		zero(v^'\\'*ones)|zero(v^0xef*ones) != 0
}

// The loop in run inlines mayTrigger; tests check the function.

// run refangs src. When src holds no defanged form it is returned unchanged
// (and r.edits is empty); otherwise the result lives in r.out.
func (r *refanger) run(src []byte) []byte {
	r.out = r.out[:0]
	r.edits = r.edits[:0]
	last := 0
	for p := 0; p < len(src); p++ {
		// Skip eight bytes at a time while none can start a form.
		for p+8 <= len(src) {
			// mayTrigger, inline.
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			v := binary.LittleEndian.Uint64(src[p:])
			y1 := (v | 0x20*ones) ^ '{'*ones
			y2 := (v &^ (0x02 * ones)) ^ '('*ones
			y3 := v ^ '\\'*ones
			y4 := v ^ 0xef*ones
			if m := ((y1-ones)&^y1 | (y2-ones)&^y2 | (y3-ones)&^y3 | (y4-ones)&^y4) & highs; m != 0 {
				// The lowest flagged byte is a trigger byte (a zero
				// test is exact up to its first zero): go to it.
				p += bits.TrailingZeros64(m) >> 3
				break
			}
			p += 8
		}
		if p >= len(src) || !trigger[src[p]] {
			continue
		}
		repl, n, spaced := matchDefang(src, p)
		if n == 0 {
			continue
		}
		r.out = append(r.out, src[last:p]...)
		inStart, end := p, p+n
		if spaced && p > 0 && src[p-1] == ' ' && end < len(src) && src[end] == ' ' &&
			len(r.out) > 0 && r.out[len(r.out)-1] == ' ' &&
			(len(r.edits) == 0 || r.edits[len(r.edits)-1].out <= len(r.out)-1) {
			// " [.] " -> "." : the spaces belong to the defang form.
			r.out = r.out[:len(r.out)-1]
			inStart--
			end++
		}
		r.edits = append(r.edits, edit{len(r.out), inStart})
		r.out = append(r.out, repl...)
		r.edits = append(r.edits, edit{len(r.out), end})
		last = end
		p = end - 1
	}
	if len(r.edits) == 0 {
		return src
	}
	r.out = append(r.out, src[last:]...)
	return r.out
}

// matchDefang reports the replacement for a defang form starting at src[p],
// how many bytes it spans, and whether surrounding single spaces belong to it.
func matchDefang(src []byte, p int) (repl string, n int, spaced bool) {
	switch c := src[p]; c {
	case '[', '(', '{':
		closer := byte(']')
		if c == '(' {
			closer = ')'
		} else if c == '{' {
			closer = '}'
		}
		lim := min(len(src), p+6)
		k := bytes.IndexByte(src[p+1:lim], closer)
		if k < 0 {
			// A mixed pair ("[.)", "(.]"): a dot or an at sign between
			// any opening and any closing bracket.
			if m := bytes.IndexAny(src[p+1:lim], "])}"); m >= 0 {
				if inner := src[p+1 : p+1+m]; len(inner) == 1 && (inner[0] == '.' || inner[0] == '@') || foldEq(inner, "dot") || foldEq(inner, "at") {
					k = m
				}
			}
		}
		if k < 0 {
			// A half defang: "evil[.com", "185.220.101[.47": an opening
			// bracket and a dot between two label characters.
			if c == '[' && p > 0 && p+2 < len(src) && src[p+1] == '.' && isLabelByte(src[p-1]) && isLabelByte(src[p+2]) {
				return ".", 2, false
			}
			return "", 0, false
		}
		inner := src[p+1 : p+1+k]
		n = k + 2
		switch {
		case len(inner) == 1 && inner[0] == '.', foldEq(inner, "dot"):
			return ".", n, true
		case len(inner) == 1 && inner[0] == '@', foldEq(inner, "at"):
			return "@", n, true
		}
		if c != '[' {
			return "", 0, false
		}
		switch string(inner) {
		case ":":
			return ":", n, false
		case "://":
			return "://", n, false
		case "/":
			return "/", n, false
		case "//":
			return "//", n, false
		}
	case '\\':
		if p+1 < len(src) && (src[p+1] == '.' || src[p+1] == '/') {
			return string(src[p+1]), 2, false
		}
	case '*':
		// h**p, h**ps
		if p > 0 && (src[p-1]|0x20) == 'h' && p+2 < len(src) && src[p+1] == '*' && (src[p+2]|0x20) == 'p' {
			return "tt", 2, false
		}
	case 0xef:
		if p+2 < len(src) && src[p+1] == 0xbc {
			switch src[p+2] {
			case 0x8e: // FULLWIDTH FULL STOP
				return ".", 3, false
			case 0xa0: // FULLWIDTH COMMERCIAL AT
				return "@", 3, false
			case 0x9a: // FULLWIDTH COLON
				return ":", 3, false
			case 0x8f: // FULLWIDTH SOLIDUS
				return "/", 3, false
			}
		}
	}
	return "", 0, false
}

// foldEq reports whether b equals the lower-case ASCII word s, ignoring case.
func foldEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// mapPos maps a position in the refanged buffer back to the input.
func mapPos(edits []edit, pos int) int {
	k := editIndex(edits, pos)
	if k < 0 {
		return pos
	}
	return edits[k].in + (pos - edits[k].out)
}

// editIndex returns the index of the last edit at or before pos, or -1.
func editIndex(edits []edit, pos int) int {
	lo, hi := 0, len(edits)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if edits[m].out <= pos {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// schemes maps every accepted URL scheme, defanged or not, to its canonical
// form. Keys are lower case.
var schemes = map[string]string{
	"http": "http", "https": "https", "ftp": "ftp", "ftps": "ftps", "sftp": "sftp",
	"ws": "ws", "wss": "wss",
	"hxxp": "http", "hxxps": "https", "hxtp": "http", "hxtps": "https",
	"htxp": "http", "htxps": "https", "hxxxp": "http", "hxxxps": "https",
	"hxp": "http", "hxps": "https", "fxp": "ftp", "fxps": "ftps", "sfxp": "sftp",
}

// schemeBefore finds the scheme word that ends at b[colon] (exclusive),
// returning its start and canonical name. A known scheme that is a suffix of
// a longer word ("xhttp") is taken alone.
func schemeBefore(b []byte, colon int) (start int, scheme string) {
	k := colon
	for k > 0 && colon-k < 8 && isAlpha(b[k-1]) {
		k--
	}
	var buf [8]byte
	for s := k; s < colon; s++ {
		w := buf[:0]
		for _, c := range b[s:colon] {
			w = append(w, c|0x20)
		}
		if v, ok := schemes[string(w)]; ok {
			return s, v
		}
	}
	return colon, ""
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// isLabelByte reports whether c is an ASCII letter or digit, as the bytes
// on both sides of a half-defanged dot are.
func isLabelByte(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// Refang undoes defanging in s: "[.]", "(.)", "{.}", "[dot]", "(dot)",
// "{dot}" and "\." become "."; spaced forms such as " [.] " lose their
// spaces; "[:]", "[://]", "[/]" and "\/" become ":", "://", "/"; "[@]",
// "[at]", "(at)" and "{at}" become "@"; fullwidth "．＠：／" become ASCII;
// defanged schemes (hxxp, hXXps, h**p, fxp, ...) before "://" become their
// real names; and "user at host dot tld" becomes "user@host.tld" when, and
// only when, it forms a valid e-mail address. Everything else is kept.
func Refang(s string) string {
	var r refanger
	b := r.run([]byte(s))
	var out []byte
	last := 0
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == ':' && i+2 < len(b) && b[i+1] == '/' && b[i+2] == '/':
			st, sch := schemeBefore(b, i)
			if sch == "" {
				continue
			}
			out = append(out, b[last:st]...)
			out = append(out, sch...)
			last = i
			// The rest of the URL is kept as it is, as Extract keeps it:
			// a scheme nested in its query is not rewritten.
			for i+1 < len(b) && (b[i+1] >= 0x80 || class[b[i+1]]&cURL != 0) {
				i++
			}
		case b[i] == ' ' && i+3 < len(b) && (b[i+1]|0x20) == 'a' && (b[i+2]|0x20) == 't' && b[i+3] == ' ':
			ls := localStart(b, i)
			if ls < last || ls == i {
				continue
			}
			v, _, end, ok := spacedEmail(b, ls, i)
			if !ok {
				continue
			}
			out = append(out, b[last:ls]...)
			out = append(out, v...)
			last = end
			i = end - 1
		}
	}
	if out == nil {
		return string(b)
	}
	out = append(out, b[last:]...)
	return string(out)
}
