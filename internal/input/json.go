package input

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

// MaxJSONDepth caps JSON nesting, so "[[[[..." cannot grow the decoder's
// stack without bound.
const MaxJSONDepth = 1000

const maxDepth = MaxJSONDepth

// CheckJSONDepth returns an error naming the limit when the JSON in b nests
// objects and arrays deeper than MaxJSONDepth, which the JSON reader would
// refuse: a server checks it at intake, so such a body is refused at once
// rather than accepted and then failed. It reads b as JSON only as far as
// strings go (brackets inside them do not count), and validates nothing
// else.
func CheckJSONDepth(b []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > MaxJSONDepth {
				return fmt.Errorf("%w: JSON nested deeper than %d levels", ErrMalformed, MaxJSONDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// skipJSON lists top-level members of a Splunk alert-action webhook that
// point at the SIEM itself, not at an indicator.
var skipJSON = map[string]bool{"results_link": true, "server_uri": true, "search_uri": true}

// readJSON walks any JSON — one document, a JSON Lines stream or
// concatenated documents — token by token, and extracts IOCs from every
// string value and object key (see extractKey), keeping the JSON path. A number under a key
// naming an AS number (asn, as_number, ECS as.number ...) becomes an asn
// IOC. Paths in the second and later documents of a stream start with
// "record N: ".
func readJSON(r io.Reader, rn *run) error {
	g := newJSONGuard(r, rn.tokenLimit())
	dec := json.NewDecoder(g)
	dec.UseNumber()
	var st []jsonFrame
	record := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF && len(st) == 0 {
				return nil
			}
			return rn.jsonError(err, dec, g)
		}
		if len(st) == 0 {
			record++
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(st) >= maxDepth {
					return rn.errorf(g.where(dec.InputOffset()), "%w: JSON nested deeper than %d levels", ErrMalformed, maxDepth)
				}
				st = append(st, jsonFrame{obj: t == '{', wantKey: t == '{', record: record})
			default:
				st = st[:len(st)-1]
				valueDone(st)
			}
		case string:
			if n := len(st); n > 0 && st[n-1].obj && st[n-1].wantKey {
				st[n-1].key = t
				st[n-1].wantKey = false
				if !(n == 1 && skipJSON[t]) && !rn.extractKey(t, jsonPath(st, record)+" (key)") {
					return nil
				}
				continue
			}
			if !(len(st) == 1 && st[0].obj && skipJSON[st[0].key]) {
				if !rn.extract([]byte(t), jsonPath(st, record), "", nil) {
					return nil
				}
			}
			valueDone(st)
		case json.Number:
			if n := len(st); n > 0 && st[n-1].obj && (isASNKey(st[n-1].key) || n > 1 && st[n-1].key == "number" && st[n-2].obj && st[n-2].key == "as") {
				if i, err := ioc.ParseAs(ioc.ASN, "AS"+t.String()); err == nil {
					if !rn.send(Item{IOC: i, Path: jsonPath(st, record)}) {
						return nil
					}
				}
			}
			valueDone(st)
		default: // bool, nil
			valueDone(st)
		}
	}
}

// extractKey scans an object key. Keys are field names far more often
// than indicators, and dotted field names (kibana.alert.rule.name,
// host.name) read as domains, so a key gives IPs, URLs, e-mail addresses,
// hashes and CVEs, and domains only as the host of a URL or address.
func (rn *run) extractKey(k, path string) bool {
	hostOK := strings.Contains(k, "://") || strings.Contains(k, "@")
	ioc.Extract([]byte(k), func(m ioc.Match) {
		if m.Type == ioc.Domain && !hostOK {
			return
		}
		rn.send(Item{IOC: m.IOC, Raw: m.Raw, Path: path})
	})
	return rn.emitErr == nil
}

// jsonFrame is one open object or array.
type jsonFrame struct {
	obj     bool
	wantKey bool   // object: the next string is a key
	key     string // object: the current member
	index   int    // array: the current element
	record  int
}

// valueDone moves the innermost container past one complete value.
func valueDone(st []jsonFrame) {
	if len(st) == 0 {
		return
	}
	f := &st[len(st)-1]
	if f.obj {
		f.wantKey = true
	} else {
		f.index++
	}
}

func isASNKey(k string) bool {
	k = strings.ToLower(k)
	return k == "asn" || k == "as_number" || k == "asnumber" || k == "autonomous_system_number" || strings.HasSuffix(k, ".asn") || strings.HasSuffix(k, "_asn")
}

// jsonPath renders the path of the current value, e.g. $.result.src_ip or
// $.hits.hits[3]._source["source.ip"].
func jsonPath(st []jsonFrame, record int) string {
	var b strings.Builder
	if record > 1 {
		fmt.Fprintf(&b, "record %d: ", record)
	}
	b.WriteByte('$')
	for _, f := range st {
		if !f.obj {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.index))
			b.WriteByte(']')
			continue
		}
		if plainKey(f.key) {
			b.WriteByte('.')
			b.WriteString(f.key)
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Quote(f.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '-' || c == '@' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// jsonError describes a decoding failure with line, column and byte offset.
func (rn *run) jsonError(err error, dec *json.Decoder, g *jsonGuard) error {
	if rn.emitErr != nil || errors.Is(err, errStop) {
		return nil
	}
	var se *json.SyntaxError
	switch {
	case errors.Is(err, ErrTooLarge):
		return rn.errorf(g.where(g.tooLargeAt), "%w: a JSON value is longer than %d bytes", ErrTooLarge, g.max)
	case errors.As(err, &se):
		// Inside a scalar the decoder's offset is off; the value's start
		// (InputOffset) is then the better place to point at.
		return rn.errorf(g.where(max(se.Offset, dec.InputOffset())), "%w: %v", ErrMalformed, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return rn.errorf(g.where(dec.InputOffset()), "%w: JSON ends in the middle of a value", ErrMalformed)
	}
	return rn.wrap(g.where(dec.InputOffset()), err)
}

// jsonGuard sits under the decoder. It fails the stream once one string or
// other token grows past max bytes (the decoder would otherwise buffer a
// 200 MB line whole), and it remembers recent line starts so errors can say
// line and column.
type jsonGuard struct {
	r          io.Reader
	max        int64
	off        int64 // bytes passed through
	run        int64 // length of the current token
	inStr, esc bool
	tooLargeAt int64
	lines      int64   // newlines seen before nl[0] (or in total when nl is empty)
	nl         []int64 // offsets of recent newlines
}

func newJSONGuard(r io.Reader, max int64) *jsonGuard { return &jsonGuard{r: r, max: max} }

func (g *jsonGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		if c == '\n' {
			if len(g.nl) >= 1<<15 {
				drop := len(g.nl) / 2
				g.lines += int64(drop)
				g.nl = append(g.nl[:0], g.nl[drop:]...)
			}
			g.nl = append(g.nl, g.off+int64(i))
		}
		switch {
		case g.inStr:
			switch {
			case g.esc:
				g.esc = false
			case c == '\\':
				g.esc = true
			case c == '"':
				g.inStr = false
				g.run = 0
				continue
			}
			g.run++
		case c == '"':
			g.inStr = true
			g.run = 0
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			g.run = 0
		default:
			g.run++
		}
		if g.run > g.max {
			g.tooLargeAt = g.off + int64(i) - g.run
			g.off += int64(i)
			return i, ErrTooLarge
		}
	}
	g.off += int64(n)
	return n, err
}

// where renders a byte offset as "line L, column C (byte O)"; when the
// line is no longer known only the byte offset is given.
func (g *jsonGuard) where(off int64) string {
	if off < 0 {
		off = 0
	}
	// Newlines before off among those remembered.
	k := 0
	for k < len(g.nl) && g.nl[k] < off {
		k++
	}
	if k == 0 && g.lines > 0 {
		return fmt.Sprintf("byte %d", off)
	}
	line := g.lines + int64(k) + 1
	col := off + 1
	if k > 0 {
		col = off - g.nl[k-1]
	}
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}
