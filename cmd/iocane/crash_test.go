package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// TestHelperProcess is not a test: it is the child process the crash test
// runs and kills. It runs iocane with the arguments in IOCANE_TEST_ARGS.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("IOCANE_TEST_CHILD") != "1" {
		t.Skip("helper process for TestSIGKILLMidRunLosesNothing")
	}
	os.Exit(run(strings.Split(os.Getenv("IOCANE_TEST_ARGS"), "\x1f")))
}

// TestSIGKILLMidRunLosesNothing is issue 4 acceptance 6: kill a bulk run
// with SIGKILL halfway, run it again, and check that what finished comes
// from the cache (no provider call repeated), nothing is lost, and the second
// run's output is complete.
func TestSIGKILLMidRunLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const n = 300
	fake := fakeintel.New(fakeintel.Options{Latency: map[string]time.Duration{"abuseipdb": 15 * time.Millisecond}})
	fake.Start()
	defer fake.Close()

	dir := t.TempDir()
	in := filepath.Join(dir, "iocs.txt")
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("185.%d.%d.%d", 100+i/250, (i/10)%250+1, i%250+1))
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := strings.Join([]string{"enrich", "-f", in, "--db", filepath.Join(dir, "iocane.db"),
		"--format", "jsonl", "--providers", "abuseipdb"}, "\x1f")
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(append(os.Environ(), fake.Env()...), "IOCANE_TEST_CHILD=1", "IOCANE_TEST_ARGS="+args,
			"IOCANE_ABUSEIPDB_RATE=200/s")
		return cmd
	}

	// First run: kill it once a third of the results are out.
	first := child()
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done1 := map[string]bool{}
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(done1) < n/3 {
		var r result.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("first run wrote a bad line %q: %v", sc.Text(), err)
		}
		done1[r.IOC.Value] = true
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	_ = first.Wait()
	if len(done1) < n/3 {
		t.Fatalf("first run wrote only %d results before exiting", len(done1))
	}
	callsBefore := perIP(fake)
	if db, err := store.Open(context.Background(), filepath.Join(dir, "iocane.db")); err == nil {
		sizes, _ := db.CacheSize(context.Background())
		t.Logf("after the kill: %d results read, %d calls seen, %d answers cached", len(done1), sum(callsBefore), sizes["abuseipdb"])
		db.Close()
	}

	// Second run: to completion.
	second := child()
	var stderr strings.Builder
	second.Stderr = &stderr
	b, err := second.Output()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	got := map[string]result.Result{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r result.Result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("second run wrote a bad line %q: %v", l, err)
		}
		if _, dup := got[r.IOC.Value]; dup {
			t.Errorf("%s twice in the second run's output", r.IOC.Value)
		}
		got[r.IOC.Value] = r
	}
	if len(got) != n {
		t.Fatalf("second run's output has %d IOCs, want all %d", len(got), n)
	}
	calls := perIP(fake)
	repeated := 0
	for _, ip := range lines {
		src, ok := sourceOf(got[ip], "abuseipdb")
		if !ok || (src.Status != "ok" && src.Status != "not_found") {
			t.Errorf("%s: abuseipdb source %+v", ip, src)
		}
		if done1[ip] {
			if !src.Cached {
				t.Errorf("%s finished before the kill but was not answered from the cache", ip)
			}
			if calls[ip] != 1 {
				t.Errorf("%s finished before the kill: %d provider calls in all, want 1", ip, calls[ip])
			}
		}
		if calls[ip] > 1 {
			repeated++
		}
	}
	// Only look-ups in flight at the kill (answered but not yet cached) may
	// be repeated: at most the worker pool.
	if repeated > 64 {
		t.Errorf("%d IOCs were looked up twice; at most the in-flight few may be", repeated)
	}
	t.Logf("killed after %d of %d results; %d calls before the kill, %d after; %d repeated look-ups",
		len(done1), n, sum(callsBefore), sum(calls)-sum(callsBefore), repeated)
}

func perIP(fake *fakeintel.Server) map[string]int {
	m := map[string]int{}
	for _, r := range fake.Requests("abuseipdb") {
		m[r.Query.Get("ipAddress")]++
	}
	return m
}

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

func sourceOf(r result.Result, name string) (result.Source, bool) {
	for _, s := range r.Sources {
		if s.Provider == name {
			return s, true
		}
	}
	return result.Source{}, false
}
