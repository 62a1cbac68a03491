package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/report"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/store"
)

// Report builds the pipeline report for the window of length since that
// ends at until, from the run statistics and deliveries in the store.
func (p *Pipeline) Report(ctx context.Context, until time.Time, since time.Duration) (*report.Report, error) {
	return report.Build(ctx, report.StoreSource(p.Store), report.Options{
		Now: until, Since: since, Quotas: p.Settings.Quotas(), Deliveries: report.StoreOutcomeSource(p.Store.OpenReader),
	})
}

// scheduleReport starts the scheduled report when report.schedule is set,
// sending it to report.dir and, with report.email, through notifiers'
// e-mail channel.
func (p *Pipeline) scheduleReport(ctx context.Context, notifiers *notify.Set, log *slog.Logger) error {
	rs := p.Settings.Report
	if rs.Schedule == "" {
		return nil
	}
	sched, err := report.ParseSchedule(rs.Schedule) // LoadSettings validated both
	if err != nil {
		return configErr(err)
	}
	since, err := report.ParseSince(rs.Since)
	if err != nil {
		return configErr(err)
	}
	var senders []report.Sender
	if rs.Dir != "" {
		senders = append(senders, report.DirSender(rs.Dir))
	}
	if rs.Email {
		senders = append(senders, func(ctx context.Context, r report.Rendered) error {
			return notifiers.EmailReport(ctx, r.Title, string(r.Markdown), string(r.HTML))
		})
	}
	s := &report.Scheduler{
		Schedule: sched, Source: report.StoreSource(p.Store),
		Options: report.Options{Since: since, Quotas: p.Settings.Quotas(), Deliveries: report.StoreOutcomeSource(p.Store.OpenReader)},
		Senders: senders,
		OnError: func(err error) { log.Error("scheduled report failed", "error", err) },
		OnSent:  func(r report.Rendered) { log.Info("report sent", "title", r.Title, "dir", rs.Dir, "email", rs.Email) },
	}
	log.Info("report scheduled", "schedule", sched.String(), "next", sched.Next(time.Now()), "since", rs.Since)
	go func() {
		if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("report scheduler stopped", "error", err)
		}
	}()
	return nil
}

// jobRecorder records each finished server job's statistics in the store
// (kind "job", input its source: api, splunk, ...), so the report counts
// server jobs like CLI runs, with the same runstats.Recorder. The engine is
// shared by every job, so the record is built from the job's stored
// results; HTTP 429s and retries cannot be told apart per job and are in
// /metrics instead.
type jobRecorder struct {
	db  *store.DB
	q   jobs.Queue // set once the queue is open, before it starts
	log *slog.Logger
}

// record is the queue's OnComplete hook.
func (r *jobRecorder) record(j jobs.Job) {
	if r.q == nil || j.Counts.Done == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rec runstats.Recorder
	if err := r.q.Results(ctx, j.ID, func(res result.Result) error { rec.Add(res); return nil }); err != nil {
		r.log.Warn("job statistics not saved", "job", j.ID, "error", err)
		return
	}
	started, finished := j.StartedAt, j.FinishedAt
	if started.IsZero() {
		started = j.CreatedAt
	}
	if finished.IsZero() {
		finished = time.Now()
	}
	if _, err := r.db.RecordRun(ctx, rec.Run("job", j.Source, started, finished)); err != nil {
		r.log.Warn("job statistics not saved", "job", j.ID, "error", err)
	}
}
