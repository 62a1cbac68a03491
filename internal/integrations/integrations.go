// Package integrations closes the loop: when a job that came from a SIEM or
// SOAR alert completes, its results go back to where the analyst works
// (TheHive, Splunk, Splunk SOAR, XSOAR, a generic webhook) and the analyst is
// notified (Slack, Teams, e-mail, webhook). Each destination is a Sink; the
// Dispatcher delivers to every sink that applies, retries failures with
// backoff, records every outcome for the weekly report, and never loses the
// enrichment or blocks other alerts when a destination is down.
//
// # Delivery
//
// Dispatcher.OnComplete is the jobs queue's completion hook. It returns at
// once: the job's results are loaded and delivered on the dispatcher's own
// goroutines, every applicable sink concurrently (at most Concurrency
// deliveries in flight per sink), so a slow or dead destination holds up
// neither the job workers nor other alerts. Only completed jobs are
// delivered; a failed or canceled job is not.
//
// # Retries and exactly-once landing
//
// A failed attempt is retried with exponential backoff and jitter
// (cenkalti/backoff) within MaxAttempts and MaxElapsed; an error wrapping
// ErrPermanent (a 4xx such as a bad token or a malformed body) ends the
// retries at once. Outbound HTTP goes through an httpx client with one
// attempt per call (timeouts, circuit breaker, size cap, safe redirects):
// retries belong to the dispatcher, which counts and records them.
//
// A write-back that lands must not land twice. Each delivery carries a
// Progress (ProgressFrom(ctx)) stored in SQLite: a sink marks each step it
// has completed (an observable created, the comment posted) and skips the
// steps already marked, so a retry after a partial success, or after a
// restart, resumes rather than duplicates. Where the destination offers
// idempotency (TheHive answers an observable that already exists with an
// error naming it; Splunk SOAR with existing_artifact_id), a sink treats
// that answer as landed, which covers a request that landed but whose
// answer was lost.
//
// # Outcomes
//
// Every delivery is one row in integration_outcomes (see Store): sink, kind
// (writeback or notify), state (pending, ok, failed), attempts, the last
// error, the alert's receipt time (the job's creation) and the times the
// delivery started and finished, so the weekly report computes p50/p95
// "alert received → alert updated" and successes, failures and retries.
// Rows left pending by a process that died are delivered again by Resume.
// The enrichment itself is never touched: a failed write-back leaves the
// job's results in the store, readable at /v1/jobs/{id}/results.
//
// Nothing here blocks, quarantines or remediates: iocane informs.
package integrations

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/result"
)

// Delivery is one completed job with its results.
type Delivery struct {
	Job     jobs.Job
	Results []result.Result
	// Link is where the full result can be read (GET /v1/jobs/{id}/results
	// on this server), for messages.
	Link string
	// Update is true for the second delivery of a job whose deferred
	// look-ups landed after it completed and changed some results (each
	// with Revised set): write-back sinks update the alert, and
	// notification channels notify only of IOCs a rule selects now but
	// did not when the job completed.
	Update bool
}

// UpdateSuffix ends the job id under which an update's outcome is
// recorded, beside the first delivery's.
const UpdateSuffix = "+update"

// Sink is one destination.
type Sink interface {
	// Name is the sink's config name: "thehive", "splunk", "splunksoar",
	// "xsoar", "webhook", "slack", "teams", "email".
	Name() string
	// Applies reports whether d should go to this sink (e.g. TheHive
	// write-back only for alerts from TheHive).
	Applies(d Delivery) bool
	// Deliver sends d. An error is retried by the Dispatcher; wrap
	// ErrPermanent for a failure a retry cannot fix (a 400, a bad token).
	Deliver(ctx context.Context, d Delivery) error
}

// Kinds of delivery, as Outcome.Kind and the report name them.
const (
	KindWriteBack = "writeback"
	KindNotify    = "notify"
)

// Notifier may be implemented by a Sink that notifies an analyst (Slack,
// Teams, e-mail) rather than updating the alert; its outcomes are then of
// kind notify. Sinks named slack, teams, email or notify_webhook are
// notifications too.
type Notifier interface {
	Notification() bool
}

// KindOf returns the kind of s's deliveries.
func KindOf(s Sink) string {
	if n, ok := s.(Notifier); ok {
		if n.Notification() {
			return KindNotify
		}
		return KindWriteBack
	}
	switch s.Name() {
	case "slack", "teams", "email", "notify_webhook":
		return KindNotify
	}
	return KindWriteBack
}

// ErrPermanent marks a failure a retry cannot fix: the Dispatcher gives up
// at once and records it.
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() []error {
	return []error{e.err, ErrPermanent}
}

// Outcome is the record of one delivery to one sink.
type Outcome struct {
	JobID string
	Sink  string
	// Kind is KindWriteBack or KindNotify.
	Kind string
	// AlertSystem and AlertID name the alert (empty for an API job).
	AlertSystem string
	AlertID     string
	// State is "pending" while attempts go on, then "ok", "held" (accepted
	// by the sink for a later digest) or "failed". OK is true for ok and
	// held.
	State string
	OK    bool
	// Attempts counts the attempts made, the first included; Retries is
	// Attempts minus one.
	Attempts int
	Retries  int
	// Error is the last attempt's error, scrubbed of secrets; "" on success.
	Error string
	// Received is when the alert reached iocane (the job's creation).
	Received  time.Time
	StartedAt time.Time
	// Finished is when it landed or was given up; Finished minus the
	// alert's receipt time is "time from alert received to alert updated".
	Finished time.Time
}

// Outcome states.
const (
	StatePending = "pending"
	StateOK      = "ok"
	StateFailed  = "failed"
	// StateHeld is a delivery the sink accepted for later: a notification
	// held for the next digest by the channel's rate limit. It is kept
	// durably by the sink, not yet sent.
	StateHeld = "held"
)

// ErrHeld is what a sink's Deliver returns (wrapped) when it accepted the
// delivery for later rather than sending it now; the Dispatcher records
// the outcome as StateHeld and does not retry.
var ErrHeld = errors.New("held for later delivery")

// Progress records the steps of one delivery (job and sink) that have
// landed, so a retry resumes instead of repeating them. The Dispatcher puts
// one backed by the store in each attempt's context.
type Progress interface {
	// Done reports whether step was marked, with the value marked.
	Done(ctx context.Context, step string) (value string, ok bool, err error)
	// Mark records that step landed; value is what a later attempt needs
	// (e.g. the id of the object created).
	Mark(ctx context.Context, step, value string) error
}

type progressKey struct{}

// WithProgress returns ctx carrying p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// ProgressFrom returns the Progress in ctx, or a new in-memory one (which
// then lasts for one call only).
func ProgressFrom(ctx context.Context) Progress {
	if p, ok := ctx.Value(progressKey{}).(Progress); ok && p != nil {
		return p
	}
	return NewMemoryProgress()
}

// MemoryProgress is a Progress in memory, for tests and for a dispatcher
// without a store.
type MemoryProgress struct {
	mu    sync.Mutex
	steps map[string]string
}

// NewMemoryProgress returns an empty MemoryProgress.
func NewMemoryProgress() *MemoryProgress { return &MemoryProgress{steps: map[string]string{}} }

// Done implements Progress.
func (m *MemoryProgress) Done(_ context.Context, step string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.steps[step]
	return v, ok, nil
}

// Mark implements Progress.
func (m *MemoryProgress) Mark(_ context.Context, step, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.steps[step] = value
	return nil
}

// Step runs do unless step is already marked in ctx's Progress, and marks
// it when do succeeds. It returns the value do returned or the one marked
// earlier.
func Step(ctx context.Context, step string, do func() (string, error)) (string, error) {
	p := ProgressFrom(ctx)
	if v, ok, err := p.Done(ctx, step); err != nil {
		return "", fmt.Errorf("progress of %s: %w", step, err)
	} else if ok {
		return v, nil
	}
	v, err := do()
	if err != nil {
		return "", err
	}
	if err := p.Mark(ctx, step, v); err != nil {
		return v, fmt.Errorf("progress of %s: %w", step, err)
	}
	return v, nil
}
