// Command intakebench measures webhook intake: Splunk-style alerts POSTed
// to /v1/webhooks/splunk, each signed (HMAC-SHA256) and each a new alert,
// so every 202 means a job durably stored by the jobs queue. It reports
// accepted alerts per second and latency percentiles.
//
// By default it starts the server in-process on loopback, on a fresh
// SQLite file, with the real River/SQLite queue and no workers (intake
// only); -url points it at a running `iocane serve` instead.
//
//	go run ./internal/cmd/intakebench -c 64 -d 10s
//	go run ./internal/cmd/intakebench -url http://127.0.0.1:8080 -token $TOKEN -secret $IOCANE_WEBHOOK_SECRET
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/server"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// databaseURL puts the in-process server's store on PostgreSQL.
var databaseURL = flag.String("database-url", "", "PostgreSQL database for the in-process server instead of a SQLite file (migrated first)")

func main() {
	var (
		url      = flag.String("url", "", "base URL of a running server (default: start one in-process)")
		token    = flag.String("token", "bench-token-0123456789abcdef", "API token with the ingest scope")
		secret   = flag.String("secret", "bench-secret-0123456789abcdef", "webhook HMAC secret (\"\" to send unsigned)")
		conc     = flag.Int("c", 64, "concurrent senders")
		dur      = flag.Duration("d", 10*time.Second, "how long to send")
		warm     = flag.Duration("warmup", 1*time.Second, "sending before measuring")
		dbPath   = flag.String("db", "", "SQLite file for the in-process server (default: a temporary one)")
		jsonOut  = flag.Bool("json", false, "print the figures as JSON")
		maxProcs = flag.Int("verify", 200, "after the run, GET this many accepted jobs back to check they were stored")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and senders) to `file`")
	)
	flag.Parse()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "intakebench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	err := run(*url, *token, *secret, *conc, *dur, *warm, *dbPath, *jsonOut, *maxProcs)
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "intakebench:", err)
		os.Exit(1)
	}
}

// nopEngine satisfies server.Enricher; intake never enriches.
type nopEngine struct{}

func (nopEngine) Enrich(_ context.Context, it enrich.Item) result.Result {
	return result.Result{IOC: it.IOC}
}

func startServer(token, secret, dbPath string) (string, func(), error) {
	ctx := context.Background()
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "intakebench")
		if err != nil {
			return "", nil, err
		}
		dbPath = filepath.Join(dir, "iocane.db")
	}
	var db *store.DB
	var err error
	if *databaseURL != "" {
		db, err = store.OpenURL(ctx, *databaseURL, store.URLOptions{})
	} else {
		db, err = store.Open(ctx, dbPath)
	}
	if err != nil {
		return "", nil, err
	}
	w, r, err := db.QueuePools()
	if err != nil {
		db.Close()
		return "", nil, err
	}
	qo := jobs.Options{DB: w, Reader: r, Dialect: db.Dialect()}
	if qo.Dialect == dbx.Postgres {
		if qo.Pool, err = db.RiverPool(ctx); err != nil {
			db.Close()
			return "", nil, err
		}
	}
	q, err := jobs.Open(ctx, qo)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	srv, err := server.New(server.Options{
		Engine: nopEngine{}, Queue: q, Store: db, DefaultTLP: tlp.Amber, TokenRate: -1,
		Tokens:        []server.Token{server.NewToken("bench", token, server.ScopeIngest, server.ScopeRead)},
		WebhookSecret: []byte(secret),
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx, ln); close(done) }()
	return "http://" + ln.Addr().String(), func() {
		cancel()
		<-done
		q.Close()
		if qo.Pool != nil {
			qo.Pool.Close()
		}
		r.Close()
		w.Close()
		db.Close()
	}, nil
}

func alertBody(n int64) []byte {
	b, _ := json.Marshal(map[string]any{
		"sid":          "scheduler__admin__search__RMD5bench_at_1800000000_" + strconv.FormatInt(n, 10),
		"search_name":  "Threat - Threat Intelligence Matches - Rule",
		"app":          "SA-ThreatIntelligence",
		"owner":        "admin",
		"results_link": "https://splunk-es.northwind.local:8000/app/SA-ThreatIntelligence/@go?sid=" + strconv.FormatInt(n, 10),
		"result": map[string]any{
			"_time": "1748941187", "sourcetype": "pan:threat", "action": "allowed",
			"src_ip": "185.220.101.47", "dest_ip": "10.20.4.117", "dest_port": "443",
			"url":       "hxxps://cdn-update.secure-paypa1[.]com/payload/stage2.bin",
			"file_hash": "d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616",
			"signature": "Inbound connection from Tor exit node", "count": 3,
		},
	})
	return b
}

type figures struct {
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Accepted    int     `json:"accepted"`
	Errors      int64   `json:"errors"`
	PerSecond   float64 `json:"per_second"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Verified    int     `json:"verified"`
}

func run(base, token, secret string, conc int, dur, warm time.Duration, dbPath string, jsonOut bool, verify int) error {
	if base == "" {
		var stop func()
		var err error
		if base, stop, err = startServer(token, secret, dbPath); err != nil {
			return err
		}
		defer stop()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc}, Timeout: 30 * time.Second}
	var (
		seq      atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Value
		mu       sync.Mutex
		lat      []time.Duration
		ids      []string
		wg       sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+dur)
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			var myIDs []string
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				body := alertBody(seq.Add(1))
				req, _ := http.NewRequest("POST", base+"/v1/webhooks/splunk", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				if secret != "" {
					ts := strconv.FormatInt(t0.Unix(), 10)
					req.Header.Set(server.HeaderTimestamp, ts)
					req.Header.Set(server.HeaderSignature, server.Sign([]byte(secret), ts, body))
				}
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				rb, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if resp.StatusCode != http.StatusAccepted {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, rb))
					continue
				}
				if t0.After(measureFrom) {
					mine = append(mine, d)
					if len(myIDs) < verify {
						var j struct{ ID string }
						json.Unmarshal(rb, &j)
						myIDs = append(myIDs, j.ID)
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			ids = append(ids, myIDs...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(lat) == 0 {
		return fmt.Errorf("no alert accepted (%d errors; first: %v)", errs.Load(), firstErr.Load())
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	f := figures{Concurrency: conc, Seconds: dur.Seconds(), Accepted: len(lat), Errors: errs.Load(),
		PerSecond: float64(len(lat)) / dur.Seconds(), P50ms: pct(0.50), P90ms: pct(0.90), P99ms: pct(0.99),
		MaxMs: float64(lat[len(lat)-1].Microseconds()) / 1000}
	// Every accepted job can be read back.
	for _, id := range ids[:min(verify, len(ids))] {
		req, _ := http.NewRequest("GET", base+"/v1/jobs/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("accepted job %s is not stored: GET answered %d", id, resp.StatusCode)
		}
		f.Verified++
	}
	if jsonOut {
		return json.NewEncoder(os.Stdout).Encode(f)
	}
	fmt.Printf("webhook intake: %d alerts accepted in %.0fs with %d senders: %.0f/s; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %d errors; %d accepted jobs read back\n",
		f.Accepted, f.Seconds, f.Concurrency, f.PerSecond, f.P50ms, f.P90ms, f.P99ms, f.MaxMs, f.Errors, f.Verified)
	if v := firstErr.Load(); v != nil {
		fmt.Printf("first error: %v\n", v)
	}
	return nil
}
