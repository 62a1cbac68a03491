package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/fakeintel"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/<command>/<case>/")

// TestGolden runs each case under testdata/<command>/<case>/ and compares
// what the CLI prints with the files there, as litestream's golden tests
// do: the contract outputs (extract, enrich's formats, providers) change
// only when someone means them to. A case holds:
//
//	args    the arguments after the command, one per line
//	stdin   optional: standard input
//	env     optional: KEY=VALUE lines; the line "fakeintel" starts the
//	        fake providers and sets their keys and base URLs
//	stdout  the expected standard output
//	stderr  the expected standard error
//	exit    the expected exit code, when not 0
//
// Run with -update to rewrite stdout, stderr and exit from what the CLI
// prints now; review the diff before committing it. Timestamps, latencies,
// temporary paths and ports are replaced by placeholders first.
func TestGolden(t *testing.T) {
	commands, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cmd := range commands {
		if !cmd.IsDir() {
			continue
		}
		cases, err := os.ReadDir(filepath.Join("testdata", cmd.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			dir := filepath.Join("testdata", cmd.Name(), c.Name())
			if _, err := os.Stat(filepath.Join(dir, "args")); err != nil {
				continue
			}
			n++
			t.Run(cmd.Name()+"/"+c.Name(), func(t *testing.T) { runGolden(t, cmd.Name(), dir) })
		}
	}
	if n == 0 {
		t.Fatal("no golden cases under testdata/")
	}
}

func runGolden(t *testing.T, command, dir string) {
	tmp := t.TempDir()
	clearEnviron(t)
	for _, kv := range lines(readOptional(t, dir, "env")) {
		if kv == "fakeintel" {
			fake := fakeintel.New(fakeintel.Options{})
			fake.Start()
			t.Cleanup(fake.Close)
			for _, kv := range fake.Env() {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, strings.ReplaceAll(v, "{{tmp}}", tmp))
	}
	args := []string{command}
	for _, a := range lines(readOptional(t, dir, "args")) {
		args = append(args, strings.ReplaceAll(a, "{{tmp}}", tmp))
	}
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(readOptional(t, dir, "stdin")))
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		stderr.WriteString("iocane: " + err.Error() + "\n") // as main prints it
	}
	got := map[string]string{
		"stdout": normalize(stdout.String(), tmp),
		"stderr": normalize(stderr.String(), tmp),
		"exit":   "",
	}
	if code := exitCode(err); code != 0 {
		got["exit"] = strconv.Itoa(code) + "\n"
	}
	for _, name := range []string{"stdout", "stderr", "exit"} {
		path := filepath.Join(dir, name)
		if *update {
			if got[name] == "" && name != "stdout" {
				os.Remove(path)
				continue
			}
			if err := os.WriteFile(path, []byte(got[name]), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if want := readOptional(t, dir, name); got[name] != want {
			t.Errorf("%s differs from %s (go test ./cmd/iocane -run TestGolden -update rewrites it)\n--- got:\n%s\n--- want:\n%s",
				name, path, got[name], want)
		}
	}
}

// clearEnviron unsets every IOCANE_ variable of the machine running the
// tests for the duration of t, so that only the case's env counts.
func clearEnviron(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "IOCANE_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("IOCANE_CONFIG", "")
}

// exitCode is the code main would exit with for err.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case isUsage(err):
		return exitUsage
	}
	return exitFailure
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<time>"},
	{regexp.MustCompile(`resets \d{4}-\d\d-\d\d \d\d:\d\dZ`), "resets <time>"},
	{regexp.MustCompile(`"(latency_ms|elapsed_ms|duration_ms)":(\s*)\d+(\.\d+)?`), `"$1":$2<n>`},
	{regexp.MustCompile(`"timestamp":(\s*)"\d+"`), `"timestamp":$1"<epoch>"`},
	{regexp.MustCompile(`"date":(\s*)"\d{4}-\d\d-\d\d"`), `"date":$1"<date>"`},
	// Ids made from the time of the run: a STIX bundle's and report's, a
	// MISP event's.
	{regexp.MustCompile(`(bundle|report)--[0-9a-f-]{36}`), "$1--<uuid>"},
	{regexp.MustCompile(`("Event":\s*\{\s*"uuid":\s*)"[0-9a-f-]{36}"`), `$1"<uuid>"`},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<port>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ms|µs|s)\b`), "<duration>"},
}

// normalize replaces what changes from run to run with placeholders.
func normalize(s, tmp string) string {
	s = strings.ReplaceAll(s, tmp, "{{tmp}}")
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

func readOptional(t *testing.T, dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}
