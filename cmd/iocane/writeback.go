package main

import (
	"context"
	"log/slog"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/jobs"

	// The write-back sinks register themselves.
	_ "github.com/iocane/iocane/internal/integrations/splunk"
	_ "github.com/iocane/iocane/internal/integrations/splunksoar"
	_ "github.com/iocane/iocane/internal/integrations/thehive"
	_ "github.com/iocane/iocane/internal/integrations/webhook"
	_ "github.com/iocane/iocane/internal/integrations/xsoar"
)

// writeBack is the dispatcher of `iocane serve` and its outcome store.
type writeBack struct {
	disp  *integrations.Dispatcher
	store *integrations.Store
}

// newWriteBack builds the write-back dispatcher from the integrations
// config section and opens its outcome store in the --db file. extra are
// more sinks (notifications). The dispatcher delivers nothing until the
// queue's workers run.
func newWriteBack(ctx context.Context, sess *session, q jobs.Queue, link func(string) string, obs integrations.Observer, log *slog.Logger, extra ...integrations.Sink) (*writeBack, error) {
	c, err := integrations.LoadConfig(sess.cfg.K)
	if err != nil {
		return nil, usageError{err}
	}
	sinks, err := c.Build(integrations.Env{Logger: log})
	if err != nil {
		return nil, usageError{err}
	}
	sinks = append(sinks, extra...)
	st, err := integrations.OpenStore(ctx, sess.db.Path())
	if err != nil {
		return nil, err
	}
	disp, err := integrations.New(c.Options(integrations.Options{Sinks: sinks, Queue: q, Store: st, Link: link, Observer: obs, Logger: log}))
	if err != nil {
		st.Close()
		return nil, err
	}
	var names []string
	for _, s := range sinks {
		names = append(names, s.Name())
	}
	log.Info("write-back sinks", "sinks", names)
	return &writeBack{disp: disp, store: st}, nil
}

// onComplete is the queue's OnComplete; it does nothing until set.
func (w *writeBack) onComplete(j jobs.Job) {
	if w != nil && w.disp != nil {
		w.disp.OnComplete(j)
	}
}

// close waits for deliveries in flight until ctx ends, then closes the store.
func (w *writeBack) close(ctx context.Context, log *slog.Logger) {
	if err := w.disp.Close(ctx); err != nil {
		log.Warn("write-back deliveries interrupted; they resume at the next start", "error", err)
	}
	w.store.Close()
}
