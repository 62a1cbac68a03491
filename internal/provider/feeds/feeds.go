// Package feeds is the local source that matches IOCs against the threat
// feeds iocane keeps in its store (internal/feeds syncs them): a hit is
// "on <feed> since <date>", a malicious signal of the feed's confidence,
// and spends no quota; nothing leaves the machine. The indicators are held
// in memory (Matcher.Load after each sync), so a look-up is a map read.
//
// The Spec is registered so that the source is listed, graded and routed
// like any other; its constructor reports "not configured", since the
// source is built by the pipeline from the store when feeds are configured.
package feeds

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the source's contract name.
const Name = "feeds"

func init() {
	provider.Register(provider.Spec{
		Name: Name, Types: ioc.Types, Local: true, MaxTLP: tlp.Red, Reliability: provider.ReliabilityC,
		New: func(provider.Config) (provider.Provider, error) { return nil, provider.ErrNotConfigured },
	})
}

// hit is one feed holding an IOC.
type hit struct {
	feed       string
	since      time.Time
	confidence int
	expires    time.Time
}

// Matcher answers look-ups from the feeds' indicators held in memory.
type Matcher struct {
	by  atomic.Pointer[map[ioc.IOC][]hit]
	now func() time.Time
}

var _ provider.Provider = (*Matcher)(nil)

// NewMatcher returns an empty Matcher; now nil is time.Now.
func NewMatcher(now func() time.Time) *Matcher {
	if now == nil {
		now = time.Now
	}
	m := &Matcher{now: now}
	empty := map[ioc.IOC][]hit{}
	m.by.Store(&empty)
	return m
}

// Indicators is where the Matcher loads from (*store.DB).
type Indicators interface {
	FeedIndicators(ctx context.Context, now time.Time, fn func(store.FeedIndicator)) error
}

// Load reads every live indicator and swaps them in at once: a look-up
// sees the old set or the new one, never a mix.
func (m *Matcher) Load(ctx context.Context, src Indicators) (int, error) {
	by := map[ioc.IOC][]hit{}
	n := 0
	err := src.FeedIndicators(ctx, m.now(), func(fi store.FeedIndicator) {
		by[fi.IOC] = append(by[fi.IOC], hit{feed: fi.Feed, since: fi.FirstSeen, confidence: fi.Confidence, expires: fi.Expires})
		n++
	})
	if err != nil {
		return 0, err
	}
	m.by.Store(&by)
	return n, nil
}

// Lookup returns ok with the feeds holding i (the highest confidence as
// the malicious signal), or not_found. An expired indicator does not match.
func (m *Matcher) Lookup(_ context.Context, i ioc.IOC) (provider.Finding, error) {
	now := m.now()
	var live []hit
	for _, h := range (*m.by.Load())[i] {
		if now.Before(h.expires) {
			live = append(live, h)
		}
	}
	if len(live) == 0 {
		return provider.Finding{Status: provider.StatusNotFound}, nil
	}
	slices.SortFunc(live, func(a, b hit) int { return b.confidence - a.confidence })
	var parts, names []string
	for _, h := range live {
		parts = append(parts, fmt.Sprintf("%s since %s", h.feed, h.since.UTC().Format(time.DateOnly)))
		names = append(names, h.feed)
	}
	return provider.Finding{
		Status: provider.StatusOK, Malicious: float64(live[0].confidence) / 100,
		Summary: "on " + strings.Join(parts, ", "),
		Data:    map[string]any{"feeds": names, "since": live[0].since.UTC(), "confidence": live[0].confidence},
		Tags:    names,
	}, nil
}
