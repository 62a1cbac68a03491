package runstats

import (
	"sort"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/httpx"
)

// HTTPCounter is an httpx.Observer that counts, per provider, the requests
// sent, the 429 answers (and quota refusals) and the retries, so a run can
// record them (runstats.Run.HTTP). It passes every event on to Next, if
// set, breaker state changes included.
type HTTPCounter struct {
	Next httpx.Observer

	mu sync.Mutex
	m  map[string]*HTTP
}

var (
	_ httpx.Observer        = (*HTTPCounter)(nil)
	_ httpx.BreakerObserver = (*HTTPCounter)(nil)
)

func (c *HTTPCounter) cell(provider string) *HTTP {
	if c.m == nil {
		c.m = map[string]*HTTP{}
	}
	s := c.m[provider]
	if s == nil {
		s = &HTTP{Provider: provider}
		c.m[provider] = s
	}
	return s
}

// Request counts one attempt sent.
func (c *HTTPCounter) Request(provider string, code int, err error, d time.Duration) {
	c.mu.Lock()
	c.cell(provider).Requests++
	c.mu.Unlock()
	if c.Next != nil {
		c.Next.Request(provider, code, err, d)
	}
}

// Retry counts one retry.
func (c *HTTPCounter) Retry(provider, reason string) {
	c.mu.Lock()
	c.cell(provider).Retries++
	c.mu.Unlock()
	if c.Next != nil {
		c.Next.Retry(provider, reason)
	}
}

// RateLimited counts one 429 answer or quota refusal.
func (c *HTTPCounter) RateLimited(provider string) {
	c.mu.Lock()
	c.cell(provider).HTTP429++
	c.mu.Unlock()
	if c.Next != nil {
		c.Next.RateLimited(provider)
	}
}

// BreakerState passes a breaker change on to Next.
func (c *HTTPCounter) BreakerState(provider, from, to string) {
	if b, ok := c.Next.(httpx.BreakerObserver); ok {
		b.BreakerState(provider, from, to)
	}
}

// Stats returns the counts so far, by provider name.
func (c *HTTPCounter) Stats() []HTTP {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]HTTP, 0, len(c.m))
	for _, s := range c.m {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}
