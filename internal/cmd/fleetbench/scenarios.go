package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
)

// budget is acceptance 1: a provider strictly enforcing 20 requests/s,
// three jobs of 300 distinct IPs, one to each replica, with the fleet's
// rate at 20/s. 429s ≤ 1 % of calls, wall time within 1.05× of calls ÷
// 20/s, and each IP called once.
func budget(f *fleet) error {
	const p, rate = "abuseipdb", 20.0
	f.startFake(fakeintel.Options{Rate: map[string]float64{p: rate}}, "IOCANE_ABUSEIPDB_RATE=20/s")
	if err := f.migrate(); err != nil {
		return err
	}
	if err := f.start(3); err != nil {
		return err
	}
	var all []string
	var wg sync.WaitGroup
	errs := make([]error, 3)
	start := time.Now()
	for i, r := range f.reps {
		batch := ips(11+i, 300)
		all = append(all, batch...)
		wg.Go(func() {
			id, err := submit(r.base, batch, p)
			if err == nil {
				_, err = wait(r.base, id, 5*time.Minute, true)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	wall := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	calls, tooMany := f.fake.Calls(p), f.fake.TooMany(p)
	bound := time.Duration(float64(calls) / rate * float64(time.Second))
	per := f.perIOC(p, all)
	once, more, never := 0, 0, 0
	for _, v := range all {
		switch per[v] {
		case 0:
			never++
		case 1:
			once++
		default:
			more++
		}
	}
	fmt.Printf("calls %d, 429s %d (%.2f %%), wall %.1f s, bound %.1f s (ratio %.3f), IPs answered once %d, more than once %d, never %d\n",
		calls, tooMany, 100*float64(tooMany)/float64(max(calls, 1)), wall.Seconds(), bound.Seconds(), wall.Seconds()/bound.Seconds(), once, more, never)
	if float64(tooMany) > 0.01*float64(calls) || wall.Seconds() > 1.05*bound.Seconds() || once != len(all) {
		return errScenario
	}
	return nil
}

// collapse is acceptance 2: the same 100 IOCs posted to all three
// replicas at once; every provider sees each IOC exactly once.
func collapse(f *fleet) error {
	f.startFake(fakeintel.Options{Latency: fakeintel.Each(300 * time.Millisecond)})
	if err := f.migrate(); err != nil {
		return err
	}
	if err := f.start(3); err != nil {
		return err
	}
	iocs := ips(21, 100)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, r := range f.reps {
		wg.Go(func() {
			id, err := submit(r.base, iocs)
			if err == nil {
				_, err = wait(r.base, id, 5*time.Minute, true)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	bad := 0
	var line []string
	for _, p := range fakeintel.Providers {
		n := f.lookups(p)
		if n == 0 {
			continue
		}
		per := f.perIOC(p, iocs)
		extra := 0
		for _, v := range iocs {
			if per[v] > 1 {
				extra += per[v] - 1
			}
		}
		line = append(line, fmt.Sprintf("%s %d", p, n))
		if n != len(iocs) || extra > 0 {
			bad++
			fmt.Printf("  %s: %d calls for %d IOCs (%d repeated)\n", p, n, len(iocs), extra)
		}
	}
	fmt.Printf("provider calls for 100 IOCs × 3 replicas: %s\n", strings.Join(line, ", "))
	if bad > 0 || len(line) == 0 {
		return errScenario
	}
	return nil
}

// quota is acceptance 3: VirusTotal's quota at 100/d across three
// replicas and a restart of all of them: exactly 100 calls, the rest
// rate_limited with reason quota.
func quota(f *fleet) error {
	const p = "virustotal"
	f.startFake(fakeintel.Options{}, "IOCANE_VIRUSTOTAL_QUOTA=100/d")
	if err := f.migrate(); err != nil {
		return err
	}
	if err := f.start(3); err != nil {
		return err
	}
	round := func(block int) (limited int, err error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i, r := range f.reps {
			wg.Go(func() {
				id, err := submit(r.base, ips(block+i, 60), p)
				if err == nil {
					_, err = wait(r.base, id, 5*time.Minute, false)
				}
				if err == nil {
					n, err2 := quotaLimited(r.base, id, p)
					mu.Lock()
					limited += n
					mu.Unlock()
					err = err2
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for _, e := range errs {
			if e != nil {
				return limited, e
			}
		}
		return limited, nil
	}
	l1, err := round(31)
	if err != nil {
		return err
	}
	c1 := f.fake.Calls(p)
	for i := range f.reps {
		f.stop(i, false)
	}
	for i := range f.reps {
		if err := f.startReplica(i); err != nil {
			return err
		}
	}
	l2, err := round(41)
	if err != nil {
		return err
	}
	c2 := f.fake.Calls(p)
	fmt.Printf("before the restart: %d VirusTotal calls, %d look-ups rate_limited (quota); after it: %d calls in all, %d more rate_limited (quota); 360 look-ups asked\n", c1, l1, c2, l2)
	if c2 != 100 || l1+l2 != 360-100 {
		return errScenario
	}
	return nil
}

// quotaLimited counts the job's results (JSONL) whose source p is
// rate_limited for its quota.
func quotaLimited(base, id, p string) (int, error) {
	req, _ := http.NewRequest("GET", base+"/v1/jobs/"+id+"/results", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n := 0
	var serr error
	scan(resp.Body, func(line string) bool {
		var r struct {
			Sources []struct{ Provider, Status, Reason string } `json:"sources"`
		}
		if serr = json.Unmarshal([]byte(line), &r); serr != nil {
			return false
		}
		for _, s := range r.Sources {
			if s.Provider == p && s.Status == "rate_limited" && strings.Contains(strings.ToLower(s.Reason), "quota") {
				n++
			}
		}
		return true
	})
	return n, serr
}
