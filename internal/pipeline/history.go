package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/result"
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

// historyBatch is how many CLI results are kept in the history per
// transaction.
const historyBatch = 512

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

func (p *Pipeline) newHistorian() *historian {
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
