package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/feeds"
	"github.com/iocane/iocane/internal/provider"
	feedsrc "github.com/iocane/iocane/internal/provider/feeds"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// addFeedsSource builds the local source `feeds` from the store's feed
// indicators (its registered constructor says "not configured", since it
// needs the store).
func (p *Pipeline) addFeedsSource(ctx context.Context, now func() time.Time) error {
	spec, _ := provider.Get(feedsrc.Name)
	m := feedsrc.NewMatcher(now)
	if _, err := m.Load(ctx, p.Store); err != nil {
		return err
	}
	p.Feeds = m
	p.Sources.Sources = append(p.Sources.Sources, &enrich.Source{Spec: spec, Provider: m, MaxTLP: tlp.Red})
	delete(p.Sources.Skipped, feedsrc.Name)
	return nil
}

// SyncFeeds syncs the configured feeds (only the one called name, when
// not empty) one after the other, reloads the feeds source, and returns
// each feed's result; one feed failing does not stop the others.
func (p *Pipeline) SyncFeeds(ctx context.Context, name string, log *slog.Logger) ([]feeds.Result, error) {
	s := &feeds.Syncer{Store: p.Store, Logger: log}
	var out []feeds.Result
	var errs []error
	found := false
	for _, f := range p.Settings.Feeds {
		if name != "" && f.Name != name {
			continue
		}
		found = true
		r, err := s.Sync(ctx, f)
		out = append(out, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if name != "" && !found {
		return nil, configErr(fmt.Errorf("no feed named %q in the config", name))
	}
	if p.Feeds != nil {
		if _, err := p.Feeds.Load(ctx, p.Store); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// pollFeeds syncs each feed when due (its interval after its last sync)
// until ctx ends, checking once a minute.
func (p *Pipeline) pollFeeds(ctx context.Context, log *slog.Logger) {
	if len(p.Settings.Feeds) == 0 {
		return
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	s := &feeds.Syncer{Store: p.Store, Logger: log}
	for {
		changed := false
		for _, f := range p.Settings.Feeds {
			now := time.Now()
			st, err := p.Store.FeedState(ctx, f.Name, now)
			if err != nil || !due(f, st, now) {
				continue
			}
			r, err := s.Sync(ctx, f)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("feed sync failed; its indicators are kept", "feed", f.Name, "error", err)
				}
				continue
			}
			changed = changed || r.Added > 0 || r.Removed > 0
			log.Info("feed synced", "feed", f.Name, "read", r.Read, "added", r.Added, "removed", r.Removed, "not_modified", r.NotModified, "took_ms", r.Took.Milliseconds())
		}
		if changed && p.Feeds != nil {
			if _, err := p.Feeds.Load(ctx, p.Store); err != nil {
				log.Warn("feeds not reloaded", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// due reports whether feed f should be synced at now: never synced, or
// its interval since the last sync has passed; after a failure, a quarter
// of the interval later.
func due(f feeds.Feed, st store.FeedState, now time.Time) bool {
	if st.ErrorAt.After(st.LastSync) && now.Sub(st.ErrorAt) < f.Interval/4 {
		return false
	}
	return st.LastSync.IsZero() || now.Sub(st.LastSync) >= f.Interval
}
