package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/tcpproxy"
)

// death is acceptance 4, first part: a 2,000-IOC job running on replica
// 0 when it is killed (SIGKILL); with IOCANE_JOBS_RESCUE_AFTER=15s another
// replica completes it: 2,000 results, each once, and few repeated calls.
func death(f *fleet) error {
	if f.dbURL == "" {
		return fmt.Errorf("needs -pg: replicas share jobs only on PostgreSQL")
	}
	const p = "abuseipdb"
	f.startFake(fakeintel.Options{Latency: map[string]time.Duration{p: 100 * time.Millisecond}},
		"IOCANE_JOBS_RESCUE_AFTER=15s", "IOCANE_ABUSEIPDB_RATE=100/s")
	if err := f.migrate(); err != nil {
		return err
	}
	if err := f.startReplica(0); err != nil { // alone, so the job is surely its
		return err
	}
	iocs := ips(51, 2000)
	id, err := submit(f.reps[0].base, iocs, p)
	if err != nil {
		return err
	}
	for {
		var j jobView
		if _, err := call("GET", f.reps[0].base+"/v1/jobs/"+id, nil, &j); err != nil {
			return err
		}
		if j.Counts.Done >= 400 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := 1; i < 3; i++ {
		if err := f.startReplica(i); err != nil {
			return err
		}
	}
	before := f.lookups(p)
	killed := time.Now()
	f.stop(0, true)
	fmt.Printf("killed replica 0 (SIGKILL) after %d look-ups\n", before)
	j, err := wait(f.reps[1].base, id, 5*time.Minute, true)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, f.logTail(20))
	}
	took := time.Since(killed)
	lines, unique, err := results(f.reps[2].base, id)
	if err != nil {
		return err
	}
	per := f.perIOC(p, iocs)
	repeated := 0
	for _, v := range iocs {
		if per[v] > 1 {
			repeated += per[v] - 1
		}
	}
	fmt.Printf("job %s completed %.1f s after the kill: %d results (%d distinct) of %d IOCs, %d look-ups in all, %d repeated\n",
		id, took.Seconds(), lines, unique, j.Counts.IOCs, f.lookups(p), repeated)
	if lines != 2000 || unique != 2000 {
		return errScenario
	}
	return nil
}

// results reads a job's results (JSONL) and counts them and their
// distinct IOCs.
func results(base, id string) (lines, unique int, err error) {
	req, _ := http.NewRequest("GET", base+"/v1/jobs/"+id+"/results", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	seen := map[string]bool{}
	scan(resp.Body, func(line string) bool {
		var r struct {
			IOC struct{ Type, Value string } `json:"ioc"`
		}
		if json.Unmarshal([]byte(line), &r) == nil {
			lines++
			seen[r.IOC.Type+" "+r.IOC.Value] = true
		}
		return true
	})
	return lines, len(seen), nil
}

// sender posts generic alerts, each a new alert id, to the replicas in
// turn, and keeps the job id of every alert answered 202.
type sender struct {
	mu       sync.Mutex
	accepted map[string]string // alert id → job id
	codes    map[int]int
	next     atomic.Int64
}

func (s *sender) run(bases func() []string, stop <-chan struct{}, n int, pause time.Duration) {
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				bs := bases()
				base := bs[(w+k)%len(bs)]
				alert := fmt.Sprintf("fleet-%d", s.next.Add(1))
				body, _ := json.Marshal(map[string]any{"rule": "fleetbench", "src_ip": fmt.Sprintf("45.61.%d.%d", (k/250)%250, k%250+1)})
				req, _ := http.NewRequest("POST", base+"/v1/webhooks/generic?id="+url.QueryEscape(alert), bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				code := 0
				var j jobView
				if err == nil {
					json.NewDecoder(resp.Body).Decode(&j)
					resp.Body.Close()
					code = resp.StatusCode
				}
				s.mu.Lock()
				s.codes[code]++
				if code == http.StatusAccepted {
					s.accepted[alert] = j.ID
				}
				s.mu.Unlock()
				if code != http.StatusAccepted {
					time.Sleep(50 * time.Millisecond)
				}
				time.Sleep(pause)
			}
		})
	}
	wg.Wait()
}

// check finds every accepted alert's job on base.
func (s *sender) check(base string) (found, missing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.accepted {
		if _, err := call("GET", base+"/v1/jobs/"+id, nil, nil); err != nil {
			missing++
		} else {
			found++
		}
	}
	return found, missing
}

func (s *sender) codeLine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []int
	for k := range s.codes {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	var parts []string
	for _, k := range ks {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, s.codes[k]))
	}
	return strings.Join(parts, ", ")
}

// intakeKill is acceptance 4, second part: 16 senders post alerts across
// the replicas; replica 1 is killed (SIGKILL) meanwhile; every alert that
// got a 202 exists as a job afterwards.
func intakeKill(f *fleet) error {
	if f.dbURL == "" {
		return fmt.Errorf("needs -pg: replicas share jobs only on PostgreSQL")
	}
	f.startFake(fakeintel.Options{})
	if err := f.migrate(); err != nil {
		return err
	}
	if err := f.start(3); err != nil {
		return err
	}
	s := &sender{accepted: map[string]string{}, codes: map[int]int{}}
	stop := make(chan struct{})
	bases := func() []string { return []string{f.reps[0].base, f.reps[1].base, f.reps[2].base} }
	done := make(chan struct{})
	go func() { s.run(bases, stop, 16, 0); close(done) }()
	time.Sleep(4 * time.Second)
	f.stop(1, true)
	fmt.Println("killed replica 1 (SIGKILL) after 4 s of intake")
	time.Sleep(4 * time.Second)
	close(stop)
	<-done
	found, missing := s.check(f.reps[0].base)
	fmt.Printf("answers: %s; alerts accepted %d: found as jobs %d, missing %d\n", s.codeLine(), found+missing, found, missing)
	if missing > 0 || found == 0 {
		return errScenario
	}
	return nil
}

// faults is acceptance 5: Redis, then PostgreSQL, unreachable for 10 s
// each while a rate-limited job runs and alerts arrive: a proxy in front
// of each goes down and comes back, or with -stop-services the machine's
// servers themselves are stopped and started (nothing else may be using
// them then).
var stopServices = flag.Bool("stop-services", false, "faults: stop and start the machine's Redis and PostgreSQL instead of cutting a proxy")

// faults runs acceptance 5 (see stopServices).

func faults(f *fleet) error {
	if f.dbURL == "" {
		return fmt.Errorf("needs -pg")
	}
	ru, _ := url.Parse(*redisDB)
	pu, _ := url.Parse(f.dbURL)
	redisOut, pgOut := realRedis, realPostgres
	if !*stopServices {
		rp, err := tcpproxy.New(ru.Host)
		if err != nil {
			return err
		}
		defer rp.Close()
		pp, err := tcpproxy.New(pu.Host)
		if err != nil {
			return err
		}
		defer pp.Close()
		ru.Host, pu.Host = rp.Addr(), pp.Addr()
		redisOut, pgOut = proxied(rp), proxied(pp)
	}
	const p, rate = "abuseipdb", 20.0
	f.startFake(fakeintel.Options{Rate: map[string]float64{p: rate}}, "IOCANE_ABUSEIPDB_RATE=20/s",
		"IOCANE_REDIS_URL="+ru.String(), "IOCANE_DATABASE_URL="+pu.String())
	if err := f.migrate(); err != nil {
		return err
	}
	if err := f.start(3); err != nil {
		return err
	}
	var ids []string
	for i, r := range f.reps {
		id, err := submit(r.base, ips(71+i, 400), p)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	s := &sender{accepted: map[string]string{}, codes: map[int]int{}}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		// About 100 alerts a second: enough to see every answer during the
		// outages, few enough that the queue drains soon after.
		s.run(func() []string { return []string{f.reps[0].base, f.reps[1].base, f.reps[2].base} }, stop, 4, 40*time.Millisecond)
		close(done)
	}()
	time.Sleep(8 * time.Second)
	redisDown, redisUp, err := outage("Redis", redisOut)
	if err != nil {
		return err
	}
	time.Sleep(8 * time.Second)
	pgDown, pgUp, err := outage("PostgreSQL", pgOut)
	if err != nil {
		return err
	}
	time.Sleep(5 * time.Second)
	close(stop)
	<-done
	for i, id := range ids {
		if _, err := wait(f.reps[i].base, id, 10*time.Minute, true); err != nil {
			return fmt.Errorf("after recovery: %w\n%s", err, f.logTail(30))
		}
	}
	fmt.Printf("the three jobs completed %.1f s after PostgreSQL came back\n", time.Since(pgUp).Seconds())
	found, missing := s.check(f.reps[0].base)
	peak, mean := f.rateIn(p, redisDown.Add(time.Second), redisUp)
	fmt.Printf("during the Redis outage: the provider saw at most %d requests in any second, %.1f/s on average (fleet rate 20/s, fallback share 1/3 each)\n", peak, mean)
	pk2, mean2 := f.rateIn(p, pgDown, pgUp)
	fmt.Printf("during the PostgreSQL outage: at most %d requests in any second, %.1f/s on average\n", pk2, mean2)
	fmt.Printf("webhooks: %s; accepted %d: found as jobs %d, missing %d; the three jobs completed after recovery\n", s.codeLine(), found+missing, found, missing)
	logs, _ := os.ReadFile(f.logs.Name())
	for _, m := range []string{"backend unreachable", "backend recovered", "PostgreSQL is unreachable", "PostgreSQL answers again", `"level":"ERROR"`} {
		fmt.Printf("  log lines %q: %d\n", m, strings.Count(string(logs), m))
	}
	for i := range f.reps {
		if f.reps[i].cmd.ProcessState != nil {
			return fmt.Errorf("replica %d exited: %s", i, f.reps[i].cmd.ProcessState)
		}
	}
	if missing > 0 || float64(peak) > rate+2 {
		return errScenario
	}
	return nil
}

// service takes a backend away (down) and gives it back (up).
type service struct{ down, up func() error }

// proxied is a backend taken away by its proxy.
func proxied(p *tcpproxy.Proxy) service {
	return service{down: func() error { p.Down(); return nil }, up: p.Up}
}

// The machine's own servers, stopped and started with the commands of
// its notes (-stop-services).
var (
	realRedis = service{
		down: func() error { return run("redis-cli", "-p", "6379", "shutdown", "nosave") },
		up: func() error {
			return run("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
				"--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log")
		},
	}
	realPostgres = service{
		down: func() error { return pgctl("stop", "-m", "fast") },
		up:   func() error { return pgctl("start") },
	}
)

func pgctl(args ...string) error {
	vs, _ := filepath.Glob("/etc/postgresql/*")
	if len(vs) == 0 {
		return fmt.Errorf("no PostgreSQL cluster in /etc/postgresql")
	}
	return run("pg_ctlcluster", append([]string{"--skip-systemctl-redirect", filepath.Base(vs[0]), "main"}, args...)...)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "not connected") { // redis-cli shutdown drops its own connection
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// outage takes a backend away for 10 s.
func outage(name string, svc service) (down, up time.Time, err error) {
	down = time.Now()
	if err := svc.down(); err != nil {
		return down, up, err
	}
	fmt.Println(name, "unreachable")
	time.Sleep(10 * time.Second)
	if err := svc.up(); err != nil {
		return down, up, err
	}
	fmt.Println(name, "back")
	return down, time.Now(), nil
}

// rateIn returns the most requests provider p answered in any one-second
// window between from and to, and their mean rate.
func (f *fleet) rateIn(p string, from, to time.Time) (peak int, mean float64) {
	var at []time.Time
	for _, r := range f.fake.Requests(p) {
		if !r.At.Before(from) && r.At.Before(to) {
			at = append(at, r.At)
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	j := 0
	for i := range at {
		for at[i].Sub(at[j]) >= time.Second {
			j++
		}
		peak = max(peak, i-j+1)
	}
	return peak, float64(len(at)) / to.Sub(from).Seconds()
}
