package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/report"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/runstats"
	"github.com/iocane/iocane/internal/store"
)

func init() { addCommand(newReportCmd) }

type reportFlags struct {
	since  string
	until  string
	format string
	out    string
}

func newReportCmd() *cobra.Command {
	var f reportFlags
	c := &cobra.Command{
		Use:   "report",
		Short: "Weekly pipeline report: volume, verdicts, provider cost, cache savings, alert turnaround",
		Long: `Report summarises what iocane did over a window (the last 7 days by
default) from the run statistics in the store (--db): CLI runs and server
jobs alike. It shows the IOCs processed by type and input source, the
verdict distribution, per provider the calls, status mix, 429s, retries,
p50/p95 latency and quota used against quota available, the cache hit
ratio and the quota it saved, the time from alert received to alert
updated, write-back and notification outcomes, and the change against the
previous window of the same length.

Formats: md (Markdown, the default), json (every figure, for machines)
and html (one self-contained file with inline SVG charts, no script and
no external resource, readable when e-mailed). With --out FILE the
format follows the file's extension unless --format is given.`,
		Example: `  iocane report                                  # last 7 days, Markdown
  iocane report --since 30d --format json
  iocane report --format html --out report.html  # open it, or mail it
  iocane report --until 2026-11-30T08:00:00Z     # a fixed window`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runReport(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.since, "since", "7d", "window `length`: 7d, 2w, 36h, ...")
	fl.StringVar(&f.until, "until", "", "window end, RFC 3339 or YYYY-MM-DD (default now)")
	fl.StringVar(&f.format, "format", "", "md|json|html (default from --out's extension, else md)")
	fl.StringVarP(&f.out, "out", "o", "", "write to `FILE` instead of standard output")
	return c
}

func runReport(c *cobra.Command, f reportFlags) error {
	since, err := parseSince(f.since)
	if err != nil {
		return usagef("--since: %v", err)
	}
	until := time.Now()
	if f.until != "" {
		if until, err = parseUntil(f.until); err != nil {
			return usagef("--until: %v", err)
		}
	}
	format := f.format
	if format == "" {
		format = "md"
		if ext := strings.TrimPrefix(filepath.Ext(f.out), "."); slices.Contains(report.Formats, ext) {
			format = ext
		} else if ext == "htm" || ext == "markdown" {
			format = map[string]string{"htm": "html", "markdown": "md"}[ext]
		}
	}
	if !slices.Contains(report.Formats, format) {
		return usagef("unknown --format %q (want one of %s)", format, strings.Join(report.Formats, ", "))
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	quotas, err := configuredQuotas(cfg)
	if err != nil {
		return usageError{err}
	}
	ctx := c.Context()
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := report.Build(ctx, report.StoreSource(db), report.Options{
		Now: until, Since: since, Quotas: quotas, Deliveries: report.OutcomeSource(db.Path()),
	})
	if err != nil {
		return err
	}
	if f.out == "" {
		return report.Write(c.OutOrStdout(), format, r)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.out), ".iocane-report-*")
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := report.Write(tmp, format, r); err != nil {
		tmp.Close()
		return fmt.Errorf("writing report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.out); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// configuredQuotas returns each enabled provider's quota windows.
func configuredQuotas(cfg *config.Config) (map[string][]ratelimit.Window, error) {
	out := map[string][]ratelimit.Window{}
	for name, p := range cfg.Providers {
		if !p.Enabled {
			continue
		}
		ws, err := ratelimit.ParseQuota(p.Quota)
		if err != nil {
			return nil, fmt.Errorf("%s quota: %w", name, err)
		}
		if len(ws) > 0 {
			out[name] = ws
		}
	}
	return out, nil
}

// parseSince reads a window length: a number of days ("7d") or weeks
// ("2w"), or a Go duration ("36h").
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	switch {
	case strings.HasSuffix(s, "d"), strings.HasSuffix(s, "w"):
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil {
			return 0, fmt.Errorf("%q is not a length such as 7d, 2w or 36h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			d *= 7
		}
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a length such as 7d, 2w or 36h", s)
		}
	}
	if d <= 0 || d > 366*24*time.Hour {
		return 0, fmt.Errorf("%q: want a length between 1s and 366d", s)
	}
	return d, nil
}

func parseUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
}

// jobRunRecorder records each finished server job's statistics in the store
// (kind "job", input its source: api, splunk, ...), so the report counts
// server jobs like CLI runs. The engine is shared by every job, so the
// record is built from the job's stored results; HTTP 429s and retries
// cannot be told apart per job and are in /metrics instead.
type jobRunRecorder struct {
	db  *store.DB
	q   jobs.Queue // set once the queue is open, before it starts
	log *slog.Logger
}

// record is the queue's OnComplete hook.
func (r *jobRunRecorder) record(j jobs.Job) {
	if r.q == nil || j.Counts.Done == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var b runstats.Recorder
	if err := r.q.Results(ctx, j.ID, func(res result.Result) error { b.Add(res); return nil }); err != nil {
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
	if _, err := r.db.RecordRun(ctx, b.Run("job", j.Source, started, finished)); err != nil {
		r.log.Warn("job statistics not saved", "job", j.ID, "error", err)
	}
}

// reportSettings is the config's "report" section, read by iocane serve.
type reportSettings struct {
	// Schedule is when to produce the report, e.g. "mon 08:00" (UTC) or
	// "mon 08:00 Europe/Paris" (report.schedule, IOCANE_REPORT_SCHEDULE).
	// Default: none, no scheduled report.
	Schedule string
	// Since is the window (report.since, IOCANE_REPORT_SINCE). Default 7d.
	Since string
	// Dir receives iocane-report-<date>.html, .md and .json (report.dir,
	// IOCANE_REPORT_DIR). Default: none.
	Dir string
	// Email sends the report through notify's e-mail channel
	// (report.email, IOCANE_REPORT_EMAIL). Default false.
	Email bool
}

func loadReportSettings(cfg *config.Config, getenv func(string) string) (reportSettings, error) {
	s := reportSettings{
		Schedule: cfg.K.String("report.schedule"), Since: cfg.K.String("report.since"),
		Dir: cfg.K.String("report.dir"), Email: cfg.K.Bool("report.email"),
	}
	s.Schedule = firstNonEmpty(getenv("IOCANE_REPORT_SCHEDULE"), s.Schedule)
	s.Since = firstNonEmpty(getenv("IOCANE_REPORT_SINCE"), s.Since, "7d")
	s.Dir = firstNonEmpty(getenv("IOCANE_REPORT_DIR"), s.Dir)
	if v := getenv("IOCANE_REPORT_EMAIL"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("IOCANE_REPORT_EMAIL: %q is not true or false", v)
		}
		s.Email = b
	}
	return s, nil
}

// startReportSchedule starts the scheduled report when report.schedule is
// set; it returns a usage error for a bad report section.
func startReportSchedule(ctx context.Context, sess *session, log *slog.Logger) error {
	rs, err := loadReportSettings(sess.cfg, os.Getenv)
	if err != nil {
		return usageError{err}
	}
	if rs.Schedule == "" {
		return nil
	}
	sched, err := report.ParseSchedule(rs.Schedule)
	if err != nil {
		return usageError{err}
	}
	since, err := parseSince(rs.Since)
	if err != nil {
		return usagef("report.since: %v", err)
	}
	quotas, err := configuredQuotas(sess.cfg)
	if err != nil {
		return usageError{err}
	}
	var senders []report.Sender
	if rs.Dir != "" {
		senders = append(senders, report.DirSender(rs.Dir))
	}
	if rs.Email {
		nc, err := notify.LoadConfig(sess.cfg.K, os.Getenv)
		if err != nil {
			return usageError{err}
		}
		set, err := notify.New(nc, notify.Options{Logger: log})
		if err != nil {
			return usageError{err}
		}
		senders = append(senders, func(ctx context.Context, r report.Rendered) error {
			return set.EmailReport(ctx, r.Title, string(r.Markdown), string(r.HTML))
		})
	}
	if len(senders) == 0 {
		return usagef("report.schedule is set but the report goes nowhere: set report.dir or report.email")
	}
	log = log.With("component", "report")
	s := &report.Scheduler{
		Schedule: sched, Source: report.StoreSource(sess.db), Options: report.Options{Since: since, Quotas: quotas, Deliveries: report.OutcomeSource(sess.db.Path())},
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
