package feeds

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

// ErrNoIndicators is returned for a list that holds no IOC at all: a feed
// that answers an HTML error page with 200 must not wipe the indicators it
// had.
var ErrNoIndicators = errors.New("feeds: no indicator in the list")

// readList reads a csv or text feed: one IOC per line (text) or per row in
// the configured column (csv), lines starting with the comment prefix
// skipped. A value that is not an IOC (of f.Type when set) is skipped; an
// IP with a port ("1.2.3.4:443", Feodo's exports) is its IP. abuse.ch puts
// its CSV header in a comment ("# id,dateadded,url,..."): a column named
// in a commented header is found there.
func readList(f Feed, r io.Reader, emit func(ioc.IOC) error) (int, error) {
	n := 0
	take := func(v string) error {
		i, ok := parseValue(f.Type, v)
		if !ok {
			return nil
		}
		n++
		return emit(i)
	}
	if f.Kind == KindText {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, f.Comment) {
				continue
			}
			if err := take(line); err != nil {
				return n, err
			}
		}
		if err := sc.Err(); err != nil {
			return n, err
		}
		return n, nonEmpty(n)
	}
	col, named := -1, false
	if f.Column != "" {
		if k, err := strconv.Atoi(f.Column); err == nil && k > 0 {
			col = k - 1
		} else {
			named = true
		}
	}
	br := bufio.NewReader(r)
	var body strings.Builder
	// Comment lines come first in abuse.ch exports; read them for a header.
	for {
		line, err := br.ReadString('\n')
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, f.Comment) {
			if named && col < 0 {
				fields := splitCSVLine(strings.TrimSpace(strings.TrimPrefix(trimmed, f.Comment)))
				if k := slices.Index(fields, f.Column); k >= 0 {
					col = k
				}
			}
			if err != nil {
				break
			}
			continue
		}
		body.WriteString(line)
		break
	}
	cr := csv.NewReader(io.MultiReader(strings.NewReader(body.String()), br))
	cr.FieldsPerRecord, cr.LazyQuotes, cr.ReuseRecord = -1, true, true
	cr.Comment = rune(f.Comment[0])
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("csv: %w", err)
		}
		if first && named && col < 0 {
			first = false
			if k := slices.Index(rec, f.Column); k >= 0 {
				col = k
				continue // a header row
			}
			return n, fmt.Errorf("column %q is not in the header %q", f.Column, provider.Excerpt([]byte(strings.Join(rec, ",")), 120))
		}
		first = false
		if col >= 0 {
			if col < len(rec) {
				if err := take(rec[col]); err != nil {
					return n, err
				}
			}
			continue
		}
		for _, v := range rec { // no column: the first cell that is an IOC
			if _, ok := parseValue(f.Type, v); ok {
				if err := take(v); err != nil {
					return n, err
				}
				break
			}
		}
	}
	return n, nonEmpty(n)
}

func nonEmpty(n int) error {
	if n == 0 {
		return ErrNoIndicators
	}
	return nil
}

// parseValue reads one feed value as an IOC of type t ("" detects it).
func parseValue(t string, v string) (ioc.IOC, bool) {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if v == "" {
		return ioc.IOC{}, false
	}
	if t == "" || t == string(ioc.IPv4) {
		if h, p, ok := strings.Cut(v, ":"); ok && !strings.Contains(p, ":") && !strings.Contains(v, "/") {
			if _, err := strconv.Atoi(p); err == nil {
				v = h // ip:port
			}
		}
	}
	var i ioc.IOC
	var err error
	if t == "" {
		i, err = ioc.Parse(v)
	} else {
		i, err = ioc.ParseAs(ioc.Type(t), v)
	}
	return i, err == nil
}

func splitCSVLine(s string) []string {
	rec, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return nil
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec
}
