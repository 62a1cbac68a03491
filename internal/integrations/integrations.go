// Package integrations closes the loop: when a job that came from a SIEM or
// SOAR alert completes, its results go back to where the analyst works
// (TheHive, Splunk, Splunk SOAR, XSOAR, a generic webhook) and the analyst is
// notified (Slack, Teams, e-mail, webhook). Each destination is a Sink; the
// Dispatcher delivers to every sink that applies, retries failures with
// backoff, records every outcome for the weekly report, and never loses the
// enrichment or blocks other alerts when a destination is down.
//
// Nothing here blocks, quarantines or remediates: iocane informs.
package integrations

import (
	"context"
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
}

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

// Outcome is the record of one delivery to one sink.
type Outcome struct {
	JobID     string
	Sink      string
	OK        bool
	Attempts  int
	Error     string
	StartedAt time.Time
	// Finished is when it landed or was given up; Finished minus the
	// alert's receipt time is "time from alert received to alert updated".
	Finished time.Time
}
