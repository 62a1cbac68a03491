// Command fleetbench runs issue 11's acceptance scenarios for real: three
// `iocane serve` processes on different ports, sharing the machine's Redis
// (and PostgreSQL with -pg), in front of the loopback fake providers
// (internal/fakeintel, in this process, so that every provider call is
// counted). Each scenario prints its figures.
//
//	go build -o /tmp/iocane ./cmd/iocane
//	go run ./internal/cmd/fleetbench -bin /tmp/iocane -pg budget collapse quota
//
// Redis database 14 is flushed before each scenario; with -pg each scenario
// gets a fresh PostgreSQL database (dropped afterwards), migrated once by
// `iocane db migrate` before the replicas start with --no-migrate.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/fakeintel"
)

const token = "fleet-admin-0123456789abcdef0123"

var (
	bin     = flag.String("bin", "/tmp/iocane", "the iocane binary")
	usePG   = flag.Bool("pg", false, "share a PostgreSQL store (IOCANE_DATABASE_URL) instead of one SQLite file per replica")
	pgURL   = flag.String("pg-server", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server for the scenario databases")
	redisDB = flag.String("redis", "redis://127.0.0.1:6379/14", "Redis database, flushed before each scenario")
	keep    = flag.Bool("keep", false, "keep the work folder and database")
)

func main() {
	flag.Parse()
	scenarios := map[string]func(*fleet) error{"budget": budget, "collapse": collapse, "quota": quota, "death": death, "intakekill": intakeKill, "faults": faults}
	names := flag.Args()
	if len(names) == 0 {
		names = []string{"budget", "collapse", "quota"}
	}
	failed := false
	for _, n := range names {
		run, ok := scenarios[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "fleetbench: unknown scenario %q\n", n)
			os.Exit(2)
		}
		fmt.Printf("== %s\n", n)
		if err := withFleet(run); err != nil {
			fmt.Printf("FAIL %s: %v\n", n, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// fleet is the fake providers, the shared backends and the replicas.
type fleet struct {
	fake   *fakeintel.Server
	dir    string
	env    []string // every replica's environment
	dbURL  string   // the scenario's PostgreSQL database, "" without -pg
	reps   []*replica
	logs   *os.File
	rdb    *redis.Client
	fakeOp fakeintel.Options
}

// replica is one `iocane serve` process.
type replica struct {
	n    int
	cmd  *exec.Cmd
	base string
	port int
}

func withFleet(run func(*fleet) error) error {
	dir, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return err
	}
	f := &fleet{dir: dir}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	defer f.stopAll()
	opt, err := redis.ParseURL(*redisDB)
	if err != nil {
		return err
	}
	f.rdb = redis.NewClient(opt)
	defer f.rdb.Close()
	if err := f.rdb.FlushDB(context.Background()).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if *usePG {
		if f.dbURL, err = dbx.CreateDatabase(context.Background(), *pgURL, "iocane_fleet_"); err != nil {
			return err
		}
		if !*keep {
			defer dbx.DropDatabase(context.Background(), *pgURL, f.dbURL)
		}
	}
	f.logs, _ = os.Create(filepath.Join(dir, "replicas.log"))
	return run(f)
}

// startFake starts the fake providers with o and sets the replicas' base
// environment.
func (f *fleet) startFake(o fakeintel.Options, extra ...string) {
	f.fakeOp = o
	f.fake = fakeintel.New(o)
	f.fake.Start()
	f.env = append(os.Environ(), f.fake.Env()...)
	f.env = append(f.env, "IOCANE_ADMIN_TOKEN="+token, "IOCANE_REDIS_URL="+*redisDB)
	if f.dbURL != "" {
		f.env = append(f.env, "IOCANE_DATABASE_URL="+f.dbURL)
	}
	f.env = append(f.env, extra...)
}

// migrate runs `iocane db migrate` once, as a deployment does before the
// replicas start.
func (f *fleet) migrate() error {
	if f.dbURL == "" {
		return nil
	}
	cmd := exec.Command(*bin, "db", "migrate")
	cmd.Env = f.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("iocane db migrate: %v\n%s", err, out)
	}
	return nil
}

// start starts n replicas and waits until each is ready.
func (f *fleet) start(n int) error {
	for i := range n {
		if err := f.startReplica(i); err != nil {
			return err
		}
	}
	return nil
}

func (f *fleet) startReplica(i int) error {
	port := 0
	if i < len(f.reps) && f.reps[i] != nil {
		port = f.reps[i].port
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	args := []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--token-rate", "-1"} // the senders share one token
	if f.dbURL != "" {
		args = append(args, "--no-migrate")
	} else {
		args = append(args, "--db", filepath.Join(f.dir, fmt.Sprintf("replica%d.db", i)))
	}
	cmd := exec.Command(*bin, args...)
	cmd.Env = f.env
	cmd.Stderr = f.logs
	cmd.Stdout = f.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	r := &replica{n: i, cmd: cmd, port: port, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for len(f.reps) <= i {
		f.reps = append(f.reps, nil)
	}
	f.reps[i] = r
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(r.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("replica %d not ready after 60 s (see %s)", i, f.logs.Name())
}

// stop stops replica i: SIGTERM, or SIGKILL when kill is set.
func (f *fleet) stop(i int, kill bool) {
	r := f.reps[i]
	if r == nil || r.cmd.Process == nil {
		return
	}
	if kill {
		r.cmd.Process.Kill()
	} else {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	r.cmd.Wait()
	r.cmd.Process = nil
}

func (f *fleet) stopAll() {
	for i := range f.reps {
		f.stop(i, false)
	}
	if f.fake != nil {
		f.fake.Close()
	}
}

// call makes an API request with the admin token and decodes a JSON answer
// into out (when not nil).
func call(method, u string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v: %.200s", method, u, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %.300s", method, u, resp.StatusCode, b)
	}
	return resp.StatusCode, nil
}

type jobView struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Counts struct {
		IOCs     int `json:"iocs"`
		Done     int `json:"done"`
		Deferred int `json:"deferred"`
	} `json:"counts"`
}

// submit posts a job of iocs restricted to providers to base.
func submit(base string, iocs []string, providers ...string) (string, error) {
	var j jobView
	_, err := call("POST", base+"/v1/jobs", map[string]any{"iocs": iocs, "providers": providers}, &j)
	return j.ID, err
}

// wait polls job id on base until it completes and, when landed is set,
// every look-up it deferred has landed too; a failed or canceled job is an
// error.
func wait(base, id string, limit time.Duration, landed bool) (jobView, error) {
	deadline := time.Now().Add(limit)
	var j jobView
	for time.Now().Before(deadline) {
		if _, err := call("GET", base+"/v1/jobs/"+id, nil, &j); err == nil {
			switch j.State {
			case "completed":
				if !landed || j.Counts.Deferred == 0 {
					return j, nil
				}
			case "failed", "canceled":
				return j, fmt.Errorf("job %s %s", id, j.State)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return j, fmt.Errorf("job %s still %s after %s", id, j.State, limit)
}

// ips returns n distinct public IPv4 addresses starting at block b.
func ips(b, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("45.%d.%d.%d", b, i/250, i%250+1)
	}
	return out
}

// perIOC counts the fake's answered requests to provider p per IOC value
// (429s and the OAuth token endpoint are not look-ups).
func (f *fleet) perIOC(p string, values []string) map[string]int {
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
	}
	counts := map[string]int{}
	for _, r := range f.fake.Requests(p) {
		if r.Status == http.StatusTooManyRequests || strings.Contains(r.Path, "oauth2") {
			continue
		}
		raw := r.Path + " " + r.Query.Encode() + " " + string(r.Body)
		raw, _ = url.QueryUnescape(raw)
		seen := map[string]bool{}
		for _, tok := range strings.FieldsFunc(raw, func(c rune) bool {
			return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == ':' || c == '-')
		}) {
			if want[tok] && !seen[tok] {
				seen[tok] = true
				counts[tok]++
			}
		}
	}
	return counts
}

// lookups counts the fake's answered look-ups of provider p.
func (f *fleet) lookups(p string) int {
	n := 0
	for _, r := range f.fake.Requests(p) {
		if r.Status != http.StatusTooManyRequests && !strings.Contains(r.Path, "oauth2") {
			n++
		}
	}
	return n
}

// logTail returns the last lines of the replicas' log.
func (f *fleet) logTail(n int) string {
	b, _ := os.ReadFile(f.logs.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

var errScenario = errors.New("scenario failed")

// scan reads r's lines to fn until it returns false.
func scan(r io.Reader, fn func(string) bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() && fn(sc.Text()) {
	}
}
