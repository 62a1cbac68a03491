package lists

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// maxWarnings is how many bad entries a file reports one by one before
// Load only counts them.
const maxWarnings = 10

// maxScan is the number of substring and regex entries above which Load
// warns that every look-up scans them all.
const maxScan = 10000

// Load reads every source into one Matcher. A file that cannot be opened or
// parsed as a whole (missing, unreadable, not JSON) is an error naming it;
// a bad entry is skipped, counted, and logged as a warning naming file:line
// (the first ten of each file; then a count). logger may be nil.
func Load(srcs []Source, logger *slog.Logger) (*Matcher, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := newMatcher()
	for _, s := range srcs {
		if err := m.loadFile(s, logger); err != nil {
			return nil, err
		}
	}
	if err := m.finish(); err != nil {
		return nil, err
	}
	if n := len(m.subs) + len(m.regexes); n > maxScan {
		logger.Warn("lists: many substring/regex entries; every look-up scans them all", "entries", n)
	}
	return m, nil
}

// loader carries the per-file state of one load.
type loader struct {
	m      *Matcher
	src    Source
	id     uint16
	kind   Kind
	bad    int
	logger *slog.Logger
}

// entry adds one raw entry found at line, with an optional comment.
func (l *loader) entry(line int, raw, comment string) {
	v, err := l.m.add(l.id, l.kind, raw)
	if err != nil {
		l.badLine(line, raw, err.Error())
		return
	}
	if comment = strings.TrimSpace(comment); comment != "" {
		l.m.comments[commentKey{l.id, v}] = comment
	}
}

func (m *Matcher) loadFile(s Source, logger *slog.Logger) error {
	read := os.ReadFile
	if s.FS != nil {
		read = func(name string) ([]byte, error) { return fs.ReadFile(s.FS, name) }
	}
	data, err := read(s.Path)
	if err != nil {
		return fmt.Errorf("lists: read list %s: %w", s.Path, err)
	}
	if s.Weight == 0 {
		s.Weight = 1
	}
	l := &loader{m: m, src: s, kind: s.Kind, logger: logger}
	label := s.Label
	if label == "" {
		label = labelOf(s.Path)
	}
	before := m.entries
	switch formatOf(s.Path, s.Format) {
	case FormatWarninglist:
		wl, err := parseWarninglist(data)
		if err != nil {
			return fmt.Errorf("lists: %s: %w", s.Path, err)
		}
		if s.Label == "" && wl.Name != "" {
			label = wl.Name
		}
		types := typesOf(wl.MatchingAttributes)
		if types == 0 {
			logger.Info("lists: warninglist matches no iocane type; it will never match",
				"file", s.Path, "matching_attributes", wl.MatchingAttributes)
		}
		if l.id, err = m.addList(list{label: label, tlp: s.TLP, weight: s.Weight, types: types}); err != nil {
			return err
		}
		l.kind = wl.Kind
		for _, e := range wl.entries {
			l.entry(e.line, e.value, "")
		}
	case FormatCSV:
		if l.id, err = m.addList(list{label: label, tlp: s.TLP, weight: s.Weight, types: allTypes}); err != nil {
			return err
		}
		if err := l.readCSV(data); err != nil {
			return fmt.Errorf("lists: %s: %w", s.Path, err)
		}
	default:
		if l.id, err = m.addList(list{label: label, tlp: s.TLP, weight: s.Weight, types: allTypes}); err != nil {
			return err
		}
		if err := l.readText(data); err != nil {
			return fmt.Errorf("lists: %s: %w", s.Path, err)
		}
	}
	if l.bad > maxWarnings {
		logger.Warn("lists: more bad entries skipped", "file", s.Path, "skipped", l.bad)
	}
	logger.Debug("lists: loaded", "file", s.Path, "label", label, "entries", m.entries-before, "skipped", l.bad)
	return nil
}

// hostsSinks are the addresses hosts-file block-lists point names at; a
// line "0.0.0.0 ads.example" lists ads.example.
var hostsSinks = map[string]bool{"0.0.0.0": true, "127.0.0.1": true, "::": true, "::1": true, "::0": true}

// readText reads a plain list: one entry a line; blank lines and lines
// starting with '#' or ';' are skipped; " #" or " ;" starts a comment kept
// with the entry; hosts-file lines ("0.0.0.0 name [name...]") list their
// names. Any other line with more than one field is a bad entry.
func (l *loader) readText(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' || text[0] == ';' {
			continue
		}
		comment := ""
		if i := commentStart(text); i >= 0 {
			text, comment = strings.TrimSpace(text[:i]), strings.TrimSpace(text[i+1:])
		}
		fields := strings.Fields(text)
		switch {
		case len(fields) == 0:
		case len(fields) == 1:
			l.entry(line, fields[0], comment)
		case hostsSinks[fields[0]]:
			for _, f := range fields[1:] {
				l.entry(line, f, comment)
			}
		default:
			l.badLine(line, text, "more than one value on the line")
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return nil
}

func (l *loader) badLine(line int, raw, reason string) {
	l.bad++
	l.m.skipped++
	if l.bad <= maxWarnings {
		l.logger.Warn("lists: skipped bad entry", "at", fmt.Sprintf("%s:%d", l.src.Path, line),
			"entry", clip(raw), "reason", reason)
	}
}

// commentStart is the index of a '#' or ';' preceded by white space, or -1.
func commentStart(s string) int {
	for i := 1; i < len(s); i++ {
		if (s[i] == '#' || s[i] == ';') && (s[i-1] == ' ' || s[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// csvValueNames and csvCommentNames are the header names that mark the value
// and comment columns.
var (
	csvValueNames   = map[string]bool{"value": true, "ioc": true, "indicator": true, "entry": true, "ip": true, "domain": true, "url": true, "hash": true, "cidr": true, "network": true, "host": true, "hostname": true}
	csvCommentNames = map[string]bool{"comment": true, "description": true, "label": true, "note": true, "reason": true}
)

// readCSV reads CSV: the value in the column a header names (value, ioc,
// indicator, ...) or else the first column; a comment in the column named
// comment, description, label, note or reason, or else the second column
// when there is no header. Lines starting with '#' are comments.
func (l *loader) readCSV(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.LazyQuotes = true
	valCol, comCol := 0, 1
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				l.badLine(pe.Line, "", pe.Err.Error())
				continue
			}
			return err
		}
		line, _ := r.FieldPos(0)
		if first {
			first = false
			if v, c, ok := csvHeader(rec); ok {
				valCol, comCol = v, c
				continue
			}
		}
		if valCol >= len(rec) {
			l.badLine(line, strings.Join(rec, ","), "no value column")
			continue
		}
		comment := ""
		if comCol >= 0 && comCol < len(rec) && comCol != valCol {
			comment = rec[comCol]
		}
		l.entry(line, rec[valCol], comment)
	}
}

// csvHeader reports whether rec is a header, and its value and comment
// columns (comment -1 when none).
func csvHeader(rec []string) (val, com int, ok bool) {
	val, com = -1, -1
	for i, c := range rec {
		c = strings.ToLower(strings.TrimSpace(c))
		switch {
		case csvValueNames[c] && val < 0:
			val = i
		case csvCommentNames[c] && com < 0:
			com = i
		}
	}
	if val < 0 {
		return 0, 1, false
	}
	return val, com, true
}

// warninglist is a parsed MISP warninglist.
type warninglist struct {
	Name               string
	Description        string
	Kind               Kind
	MatchingAttributes []string
	entries            []wlEntry
}

type wlEntry struct {
	value string
	line  int
}

// parseWarninglist reads the JSON of a MISP warninglist. It streams the
// tokens so that each "list" element keeps its line number for warnings.
// A missing "type" means string; an unknown one is an error; a non-string
// list element is a bad entry.
func parseWarninglist(data []byte) (*warninglist, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	lines := lineCounter{data: data, line: 1}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a MISP warninglist: want a JSON object")
	}
	wl := &warninglist{Kind: KindString}
	sawList := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("bad JSON: %w", err)
		}
		key, _ := t.(string)
		switch key {
		case "name":
			err = dec.Decode(&wl.Name)
		case "description":
			err = dec.Decode(&wl.Description)
		case "matching_attributes":
			err = dec.Decode(&wl.MatchingAttributes)
		case "type":
			var s string
			if err = dec.Decode(&s); err == nil {
				if wl.Kind, err = parseKind(s); err == nil && wl.Kind == KindAuto {
					wl.Kind = KindString
				}
			}
		case "list":
			sawList = true
			err = wl.readList(dec, &lines)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", key, err)
		}
	}
	if !sawList {
		return nil, errors.New(`not a MISP warninglist: no "list"`)
	}
	return wl, nil
}

func (wl *warninglist) readList(dec *json.Decoder, lines *lineCounter) error {
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return errors.New("want an array")
	}
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		line := lines.at(dec.InputOffset())
		s, ok := v.(string)
		if !ok {
			s = "" // reported as a bad (empty) entry with its line
		}
		wl.entries = append(wl.entries, wlEntry{value: s, line: line})
	}
	_, err := dec.Token() // ']'
	return err
}

// lineCounter turns increasing byte offsets into 1-based line numbers.
type lineCounter struct {
	data []byte
	off  int
	line int
}

func (c *lineCounter) at(off int64) int {
	end := min(int(off), len(c.data))
	if end > c.off {
		c.line += bytes.Count(c.data[c.off:end], []byte{'\n'})
		c.off = end
	}
	return c.line
}

// clip shortens an entry for a log line.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
