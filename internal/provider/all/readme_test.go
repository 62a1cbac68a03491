package all_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/provider"
	_ "github.com/iocane/iocane/internal/provider/all"
)

var update = flag.Bool("update", false, "rewrite each provider README's settings table from its Spec")

const settingsHeader = "| setting | environment | default | meaning |"

// TestREADMESettingsMatchSpec holds the "## Settings" table of each
// provider's README against the settings its Spec declares: the same
// names in the same order, each with its environment variable, its default
// and, for a credential, a meaning that starts with "secret". With -update
// it rewrites the tables, keeping each row's meaning.
func TestREADMESettingsMatchSpec(t *testing.T) {
	for _, spec := range provider.All() {
		t.Run(spec.Name, func(t *testing.T) {
			path := filepath.Join("..", spec.Name, "README.md")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			doc := string(b)
			start, end, rows := settingsTable(doc)
			want := settingsRows(spec, rows)
			if *update {
				table := settingsHeader + "\n|---|---|---|---|\n" + strings.Join(want, "\n") + "\n"
				if start < 0 {
					doc = strings.TrimRight(doc, "\n") + "\n\n## Settings\n\n" + table
				} else {
					doc = doc[:start] + table + doc[end:]
				}
				if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if start < 0 {
				t.Fatalf("%s has no %q table under \"## Settings\"; go test ./internal/provider/all -update writes it", path, settingsHeader)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.line)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s settings table disagrees with the Spec (go test ./internal/provider/all -update rewrites it)\ngot:\n%s\nwant:\n%s",
					path, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

type row struct {
	name, meaning, line string
}

// settingsTable finds the settings table under "## Settings" and returns
// its byte range (header to last row) and rows; start is -1 without one.
func settingsTable(doc string) (start, end int, rows []row) {
	sec := strings.Index(doc, "\n## Settings\n")
	if sec < 0 {
		return -1, -1, nil
	}
	start = strings.Index(doc[sec:], settingsHeader)
	if start < 0 {
		return -1, -1, nil
	}
	start += sec
	lines := strings.SplitAfter(doc[start:], "\n")
	end = start
	for i, l := range lines {
		if !strings.HasPrefix(l, "|") {
			break
		}
		end += len(l)
		if i < 2 {
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(l), "|"), "|")
		r := row{line: strings.TrimRight(l, "\n")}
		if len(cells) == 4 {
			r.name = strings.Trim(strings.TrimSpace(cells[0]), "`")
			r.meaning = strings.TrimSpace(cells[3])
		}
		rows = append(rows, r)
	}
	return start, end, rows
}

// settingsRows renders spec's settings as table rows, taking each row's
// meaning from the README's rows when it has one, else from the Spec's
// Doc. A credential's meaning starts with "secret".
func settingsRows(spec provider.Spec, have []row) []string {
	var out []string
	for _, s := range spec.AllSettings() {
		meaning := s.Doc
		for _, r := range have {
			if r.name == s.Name && r.meaning != "" {
				meaning = r.meaning
			}
		}
		if s.Secret && !strings.HasPrefix(meaning, "secret") {
			meaning = "secret; " + meaning
		}
		def := ""
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		out = append(out, fmt.Sprintf("| `%s` | `%s` | %s | %s |", s.Name, s.Env(spec.Name), def, meaning))
	}
	return out
}
