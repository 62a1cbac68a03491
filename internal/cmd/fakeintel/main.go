// Command fakeintel serves the loopback fake of the twelve threat-intel APIs
// (package fakeintel) for manual demos and benchmark scripts, and prints the
// environment that points iocane at it:
//
//	go run ./internal/cmd/fakeintel -listen 127.0.0.1:8099 -rate 100 -latency 50ms
//	eval "$(... | head -n 40)"   # or copy the export lines into another shell
//	iocane enrich 185.220.101.47 8.8.8.8
//
// The export lines go to stdout, then the server runs until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8099", "address to serve every provider on, under /<provider>/")
	rate := flag.Float64("rate", 0, "requests per second each provider allows (0: no limit); iocane's rate is set to match")
	burst := flag.Int("burst", 0, "token bucket depth per provider (0: a tenth of a second's worth, at least 2)")
	latency := flag.Duration("latency", 0, "latency added to every answer")
	flag.Parse()

	o := fakeintel.Options{}
	if *rate > 0 {
		o.Rate = fakeintel.Each(*rate)
		if *burst > 0 {
			o.Burst = fakeintel.Each(*burst)
		}
	}
	if *latency > 0 {
		o.Latency = fakeintel.Each(*latency)
	}
	f := fakeintel.New(o)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("fakeintel: %v", err)
	}
	for _, p := range fakeintel.Providers {
		f.SetRoot(p, "http://"+ln.Addr().String())
	}
	if err := f.StartDNS(); err != nil { // pivots resolve here, never on the real network
		log.Fatalf("fakeintel: dns: %v", err)
	}
	for _, kv := range f.Env() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Printf("export %s='%s'\n", k, v)
	}
	fmt.Fprintf(os.Stderr, "fakeintel: serving %d providers on http://%s (rate %g/s, latency %s); ^C to stop\n",
		len(fakeintel.Providers), ln.Addr(), *rate, *latency)

	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("fakeintel: %v", err)
	}
	total, tooMany := f.TotalCalls(), f.TotalTooMany()
	fmt.Fprintf(os.Stderr, "fakeintel: %d requests, %d answered 429\n", total, tooMany)
}
