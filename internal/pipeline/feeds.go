package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/feeds"
	"github.com/iocane/iocane/internal/jobs"
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
// until ctx ends, checking once a minute. A feed with enrich: true has its
// new indicators enriched by a job of source feed, which runs behind every
// other job and spends quota like any job.
func (p *Pipeline) pollFeeds(ctx context.Context, q jobs.Queue, log *slog.Logger) {
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
			st, err := p.Store.FeedSync(ctx, f.Name)
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
			if f.Enrich && len(r.New) > 0 {
				if j, err := submitFeedJob(ctx, q, f, r, now); err != nil {
					log.Warn("the feed's new indicators were not queued for enrichment", "feed", f.Name, "error", err)
				} else {
					log.Info("feed's new indicators queued for enrichment", "feed", f.Name, "job", j.ID, "iocs", len(r.New))
				}
			}
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

// submitFeedJob queues the enrichment of a sync's new indicators: one job
// of source feed, keyed by the feed and the sync, so a repeated submission
// is the same job.
func submitFeedJob(ctx context.Context, q jobs.Queue, f feeds.Feed, r feeds.Result, at time.Time) (jobs.Job, error) {
	var b strings.Builder
	for _, i := range r.New {
		b.WriteString(i.Value)
		b.WriteByte('\n')
	}
	j, _, err := q.Submit(ctx, jobs.Spec{
		IdempotencyKey: "feed:" + f.Name + ":" + strconv.FormatInt(at.UnixMilli(), 10),
		Source:         jobs.FeedSource, InputFormat: "text", Input: []byte(b.String()), TLP: f.Level.String(),
	})
	return j, err
}
