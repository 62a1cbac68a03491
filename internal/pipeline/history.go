package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider/misp"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// pruneEvery is how often `iocane serve` drops history older than
// history.retention.
const pruneEvery = time.Hour

// pruneHistory prunes the history at start and every pruneEvery until ctx
// ends.
func (p *Pipeline) pruneHistory(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		if n, err := p.Store.PruneHistory(ctx, time.Now().Add(-p.Settings.History.Keep)); err != nil {
			if ctx.Err() == nil {
				log.Warn("history not pruned", "error", err)
			}
		} else if n > 0 {
			log.Info("history pruned", "entries", n, "retention", p.Settings.History.Keep.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// verdictsOnly is the store as the engine's memory with NoHistory: the
// analyst verdicts apply (they are the analysts' decisions, held in
// memory), the history is not read.
type verdictsOnly struct{ db *store.DB }

func (v verdictsOnly) Recall(ctx context.Context, i ioc.IOC, now time.Time) (history.Recall, error) {
	a, err := v.db.AnalystVerdict(ctx, i, now)
	return history.Recall{Analyst: a}, err
}

// historyBatch is how many CLI results are kept in the history per
// transaction: a commit makes every reader of the file drop its page cache,
// so fewer, larger ones cost less (4,096: 20 s → 15 s on 300,000 IOCs
// offline, against 512).
const historyBatch = 4096

// historian keeps a CLI run's results in the IOC history, in batches
// written by one goroutine, so the run never waits on the store.
type historian struct {
	p    *Pipeline
	mu   sync.Mutex
	buf  []history.Record
	out  chan []history.Record
	done chan struct{}
	err  error // the first failed batch
}

// newHistorian returns nil with NoHistory; a nil historian keeps nothing.
func (p *Pipeline) newHistorian() *historian {
	if p.noHistory {
		return nil
	}
	h := &historian{p: p, out: make(chan []history.Record, 4), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for recs := range h.out {
			if err := p.Store.RecordHistory(context.Background(), recs); err != nil && h.err == nil {
				h.err = err
			}
		}
	}()
	return h
}

// add keeps r's entry for the next batch.
func (h *historian) add(r result.Result) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf = append(h.buf, history.EntryOf(r, "cli", "", ""))
	if len(h.buf) >= historyBatch {
		h.out <- h.buf
		h.buf = nil
	}
}

// close writes what is left and returns the first error.
func (h *historian) close() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	if len(h.buf) > 0 {
		h.out <- h.buf
		h.buf = nil
	}
	close(h.out)
	h.mu.Unlock()
	<-h.done
	return h.err
}

// sightingPusher returns the server's OnVerdict hook that pushes each
// analyst verdict to MISP as a sighting (history.misp_sightings): a benign
// verdict as a false positive, the others as true sightings. It is nil
// when the setting is off or MISP is not configured. An IOC whose stored
// result is marked above MISP's TLP ceiling is not pushed. The push runs in
// the background; a failure is logged, the verdict stands.
func (p *Pipeline) sightingPusher(log *slog.Logger) func(history.Verdict) {
	if !p.Settings.History.MISPSightings || p.Sources == nil {
		return nil
	}
	for _, src := range p.Sources.Sources {
		c, ok := src.Provider.(*misp.Client)
		if !ok {
			continue
		}
		return func(v history.Verdict) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if r, err := p.Store.LatestResult(ctx, string(v.IOC.Type), v.IOC.Value); err == nil && !src.MaxTLP.Allows(r.TLP) {
					log.Info("misp sighting not pushed: the IOC's TLP is above misp's limit", "ioc", v.IOC.String(), "tlp", r.TLP.String())
					return
				}
				if err := c.AddSighting(ctx, v.IOC.Value, v.Verdict == result.Benign); err != nil {
					log.Warn("misp sighting not pushed", "ioc", v.IOC.String(), "error", err)
					return
				}
				log.Info("misp sighting pushed", "ioc", v.IOC.String(), "false_positive", v.Verdict == result.Benign)
			}()
		}
	}
	log.Warn("history.misp_sightings is on but misp is not configured: no sighting is pushed")
	return nil
}
