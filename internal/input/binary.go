package input

import (
	"bytes"
	"io"
	"unicode"
	"unicode/utf8"
)

// Binary input (an executable, a memory dump, a packet capture) is read the
// way an analyst reads it with strings(1): only the runs of printable text
// are scanned, so that random bytes do not turn into IOCs such as "5.kz" or
// "AS7". A text reader's input is binary when its first sniffSize bytes hold
// a NUL byte, which no text encoding but UTF-16 and UTF-32 uses; UTF-16LE
// text, common in Windows programs, is read too.

// minStringLen is the shortest run of printable characters kept from binary
// input, as `strings -n 6`: the shortest indicators (a.io, AS13335) are
// rarely alone in a binary, and four- and five-character runs are mostly
// chance.
const minStringLen = 6

// binaryCarryMax caps the undecided tail stringsReader holds back while it
// waits for the end of a run: a run longer than that is kept whatever
// follows, and cut there, as ExtractReader cuts a stretch without a break.
const binaryCarryMax = 64 << 10

// isBinary reports whether head, the start of an input, is binary.
func isBinary(head []byte) bool { return bytes.IndexByte(head, 0) >= 0 }

// printable marks the bytes a string of binary input is made of: printable
// ASCII and the tab.
var printable = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// stringsReader passes on a binary stream with everything but its strings
// blanked out: each run of at least minStringLen bytes of printable text
// (ASCII, or Unicode in valid UTF-8) is kept, each run of as many UTF-16LE
// printable ASCII characters is kept with its NUL bytes taken out, and
// every other byte becomes a line break. The output is as long as the
// input.
type stringsReader struct {
	r       io.Reader
	buf     []byte // read but not yet passed on; the first done bytes are decided
	done    int
	eof     bool
	readErr error
}

func newStringsReader(r io.Reader) *stringsReader {
	return &stringsReader{r: r, buf: make([]byte, 0, 128<<10)}
}

func (s *stringsReader) Read(p []byte) (int, error) {
	for s.done == 0 {
		if s.eof {
			if len(s.buf) == 0 {
				return 0, s.readErr
			}
			blankStrings(s.buf)
			s.done = len(s.buf)
			break
		}
		if len(s.buf) == cap(s.buf) {
			// The undecided tail fills the buffer: decide it as it is.
			blankStrings(s.buf)
			s.done = len(s.buf)
			break
		}
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			s.eof, s.readErr = true, err
			continue
		}
		if cut := decidedPrefix(s.buf); cut > 0 {
			blankStrings(s.buf[:cut])
			s.done = cut
		}
	}
	n := copy(p, s.buf[:s.done])
	s.done -= n
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	return n, nil
}

// decidedPrefix returns how much of buf can be blanked without knowing what
// follows: up to and including its last ASCII control byte other than NUL
// and tab (no run continues across one), or all of buf but the last
// binaryCarryMax bytes when there is none in a long stretch.
func decidedPrefix(buf []byte) int {
	for k := len(buf) - 1; k >= 0; k-- {
		if c := buf[k]; c != 0 && c != '\t' && (c < 0x20 || c == 0x7f) {
			return k + 1
		}
	}
	return max(0, len(buf)-binaryCarryMax)
}

// charAt returns the length of the printable character at b[i]: 1 for
// printable ASCII and the tab, the encoded length for a printable Unicode
// character in valid UTF-8 (an internationalised name, text with a stray
// NUL), 0 for anything else.
func charAt(b []byte, i int) int {
	if c := b[i]; c < utf8.RuneSelf {
		if printable[c] {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRune(b[i:])
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		return 0
	}
	return n
}

// blankStrings rewrites b in place as stringsReader describes.
func blankStrings(b []byte) {
	for i := 0; i < len(b); {
		n := charAt(b, i)
		if n == 0 {
			b[i] = '\n'
			i++
			continue
		}
		if w := wideRun(b, i); w >= minStringLen {
			// UTF-16LE: the characters to the front, line breaks after.
			end := i + 2*w
			for k := 0; k < w; k++ {
				b[i+k] = b[i+2*k]
			}
			for k := i + w; k < end; k++ {
				b[k] = '\n'
			}
			i = end
			continue
		}
		// A run of text. It ends before a character that starts a long
		// enough UTF-16LE run (the run's length prefix, say, is
		// printable), and at the NUL that ends a C string.
		j := i + n
		for j < len(b) {
			if j+1 < len(b) && b[j+1] == 0 && wideRun(b, j) >= minStringLen {
				break
			}
			n := charAt(b, j)
			if n == 0 {
				break
			}
			j += n
		}
		if j-i < minStringLen {
			for k := i; k < j; k++ {
				b[k] = '\n'
			}
		}
		i = j
	}
}

// wideRun returns how many UTF-16LE printable ASCII characters (a printable
// byte, then NUL) start at b[i].
func wideRun(b []byte, i int) int {
	n := 0
	for i+1 < len(b) && printable[b[i]] && b[i+1] == 0 {
		n++
		i += 2
	}
	return n
}
