package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/iocane/iocane/internal/fakeintel"
)

// TestTableAndProgressShareTheTerminal runs `iocane enrich -f` with stdout
// and stderr on one pseudo-terminal of 160 columns, as an analyst does,
// while VirusTotal's rate keeps the run going for two seconds so that the
// progress line is drawn many times. Replaying what reached the terminal
// on a small screen model, no row is glued to the progress line and no
// line wraps; the final progress line and the footer follow the rows.
func TestTableAndProgressShareTheTerminal(t *testing.T) {
	const cols = 160
	fake := fakeintel.New(fakeintel.Options{Rate: map[string]float64{"virustotal": 20}})
	fake.Start()
	defer fake.Close()
	var in strings.Builder
	for i := range 40 {
		fmt.Fprintf(&in, "45.33.0.%d\n", i+1)
	}
	in.WriteString("http://sskymedia.com/VMYB-ht_JAQo-gi/INV/" + strings.Repeat("a", 150) + "\n")
	path := filepath.Join(t.TempDir(), "iocs.txt")
	if err := os.WriteFile(path, []byte(in.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 50, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(read) }()

	t.Setenv("IOCANE_CONFIG", "")
	for _, kv := range fake.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	root := newRoot()
	root.SetOut(tty)
	root.SetErr(tty)
	root.SetArgs([]string{"enrich", "--db", filepath.Join(t.TempDir(), "iocane.db"), "-f", path})
	runErr := root.Execute()
	tty.Close()
	<-read
	if runErr != nil {
		t.Fatal(runErr)
	}

	raw := screen.String()
	if n := strings.Count(raw, " IOCs  "); n < 3 {
		t.Fatalf("the progress line was drawn %d times; the test needs a run long enough to draw it", n)
	}
	lines := replay(raw, cols)
	progress := regexp.MustCompile(`^\d+/[\d?]+ IOCs  `)
	rows := 0
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n >= cols {
			t.Errorf("line %d fills the %d columns and wraps: %q", i, cols, l)
		}
		if strings.Contains(l, " IOCs  ") && !progress.MatchString(l) || progress.MatchString(l) && strings.Contains(l, "ipv4") {
			t.Errorf("line %d glues a row to the progress line: %q", i, l)
		}
		if strings.HasPrefix(l, "unknown ") || strings.HasPrefix(l, "malicious ") {
			rows++
		}
	}
	if rows != 42 { // 40 addresses, the URL and its host
		t.Errorf("%d rows on the screen, want 42:\n%s", rows, strings.Join(lines, "\n"))
	}
	tail := strings.Join(lines[len(lines)-4:], "\n")
	if !regexp.MustCompile(`42/42 IOCs  \d+s\n\n42 IOCs: `).MatchString(tail) {
		t.Errorf("the screen does not end with the final progress line and the footer:\n%s", tail)
	}
}

// replay plays what a program wrote to a terminal onto a screen of the
// given width and returns its lines: "\r" returns to the first column,
// ESC [2K erases the line, colour sequences are dropped, and a character
// written past the last column wraps to a new line.
func replay(out string, width int) []string {
	lines := [][]rune{nil}
	col := 0
	sgr := regexp.MustCompile(`^\x1b\[[0-9;]*[A-Za-z]`)
	for len(out) > 0 {
		if m := sgr.FindString(out); m != "" {
			if m == "\x1b[2K" {
				lines[len(lines)-1] = nil
			}
			out = out[len(m):]
			continue
		}
		r, size := utf8.DecodeRuneInString(out)
		out = out[size:]
		cur := &lines[len(lines)-1]
		switch r {
		case '\r':
			col = 0
		case '\n':
			lines = append(lines, nil)
			col = 0
		default:
			if col == width {
				lines = append(lines, nil)
				cur, col = &lines[len(lines)-1], 0
			}
			for len(*cur) < col {
				*cur = append(*cur, ' ')
			}
			if col < len(*cur) {
				(*cur)[col] = r
			} else {
				*cur = append(*cur, r)
			}
			col++
		}
	}
	s := make([]string, 0, len(lines))
	for _, l := range lines {
		s = append(s, strings.TrimRight(string(l), " "))
	}
	for len(s) > 0 && s[len(s)-1] == "" {
		s = s[:len(s)-1]
	}
	return s
}
