package pipeline

// Scale-out on Redis (issue 11): replicas built by Open on one Redis and
// their own SQLite files. These tests use the machine's Redis
// (redistest: skipped without one, failing in CI) and keep their keys
// apart by IOCs of their own, never by flushing the database.

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/redisx"
	"github.com/iocane/iocane/internal/redisx/redistest"
	"github.com/iocane/iocane/internal/result"
)

// freshIPs returns n public addresses no earlier run has cached.
func freshIPs(n int) []ioc.IOC {
	ns := time.Now().UnixNano()
	out := make([]ioc.IOC, n)
	for i := range out {
		out[i] = ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("45.%d.%d.%d", ns>>16&0xff, ns>>8&0xff, i+1)}
	}
	return out
}

// TestReplicasCallOncePerIOC: two replicas on one Redis, asked about the
// same IOCs at once, make one provider call per IOC between them; the
// other replica answers from the shared cache (marked cached).
func TestReplicasCallOncePerIOC(t *testing.T) {
	url := redistest.URL(t)
	f := fakeintel.New(fakeintel.Options{Latency: fakeintel.Each(100 * time.Millisecond)})
	f.Start()
	t.Cleanup(f.Close)
	eo := enrich.Options{IOCTimeout: 30 * time.Second, Only: []string{"virustotal"}}
	a := newRuntime(t, f, filepath.Join(t.TempDir(), "a.db"), eo, "IOCANE_REDIS_URL="+url)
	b := newRuntime(t, f, filepath.Join(t.TempDir(), "b.db"), eo, "IOCANE_REDIS_URL="+url)
	iocs := freshIPs(20)
	items := make([]enrich.Item, len(iocs))
	for i, x := range iocs {
		items[i] = amber(x)
	}
	var wg sync.WaitGroup
	var ra, rb map[ioc.IOC]resultSources
	wg.Go(func() { ra = sourcesOf(enrichAll(t, a.engine, items...)) })
	wg.Go(func() { rb = sourcesOf(enrichAll(t, b.engine, items...)) })
	wg.Wait()

	if n := f.Calls("virustotal"); n != len(iocs) {
		t.Errorf("%d virustotal calls for %d IOCs asked of two replicas at once, want one each", n, len(iocs))
	}
	for _, x := range iocs {
		sa, sb := ra[x], rb[x]
		if sa.status == "" || sa.status != sb.status {
			t.Errorf("%s: replica a says %q, b says %q", x.Value, sa.status, sb.status)
		}
		if sa.cached == sb.cached {
			t.Errorf("%s: cached a=%v b=%v, want exactly one replica to have asked", x.Value, sa.cached, sb.cached)
		}
	}
}

type resultSources struct {
	status string
	cached bool
}

// sourcesOf is each result's virustotal source.
func sourcesOf(rs map[ioc.IOC]result.Result) map[ioc.IOC]resultSources {
	out := map[ioc.IOC]resultSources{}
	for k, r := range rs {
		for _, s := range r.Sources {
			if s.Provider == "virustotal" {
				out[k] = resultSources{s.Status, s.Cached}
			}
		}
	}
	return out
}

// TestRedisDownAtStart: a replica whose Redis does not answer still
// enriches (local limits, SQLite quotas, no shared cache or lease) and
// says Redis is down.
func TestRedisDownAtStart(t *testing.T) {
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	rt := newRuntime(t, f, filepath.Join(t.TempDir(), "a.db"), enrich.Options{IOCTimeout: 30 * time.Second, Only: []string{"virustotal"}},
		"IOCANE_REDIS_URL="+redistest.DeadURL(t))
	if up, known := rt.p.Backends.Up(redisx.Name); up || !known {
		t.Errorf("Redis down at start: up=%v known=%v", up, known)
	}
	x := freshIPs(1)[0]
	got := sourcesOf(enrichAll(t, rt.engine, amber(x)))[x]
	if got.status != "not_found" || got.cached {
		t.Errorf("with Redis down: %+v, want a look-up made (not_found)", got)
	}
	if f.Calls("virustotal") != 1 {
		t.Errorf("%d calls", f.Calls("virustotal"))
	}
}

// TestRedisSettingsErrors: a bad redis setting is a config error naming
// it, and never shows the password.
func TestRedisSettingsErrors(t *testing.T) {
	for env, field := range map[string]string{
		"IOCANE_REDIS_URL=redis://:hunter2@[::1":    "redis.url",
		"IOCANE_REDIS_FALLBACK_SHARE=0":             "redis.fallback_share",
		"IOCANE_REDIS_URL=mysql://:hunter2@db:3306": "redis.url",
	} {
		_, err := LoadSettings(Options{ConfigPath: writeEmptyConfig(t), Environ: []string{env}})
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), field) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v, want a config error naming %s without the password", env, err, field)
		}
	}
}
