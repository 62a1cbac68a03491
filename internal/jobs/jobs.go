// Package jobs runs enrichment work durably: a job accepted by the server
// (an API bulk request or a SIEM alert from a webhook) is stored before the
// 202 goes back, survives a crash or SIGKILL, and ends in a terminal state
// even when providers hang. Each IOC of a job has exactly one result.
package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/iocane/iocane/internal/result"
)

// State is where a job is in its life.
type State string

// Job states; Completed, Failed and Canceled are terminal.
const (
	Queued    State = "queued"
	Running   State = "running"
	Completed State = "completed"
	Failed    State = "failed"
	Canceled  State = "canceled"
)

// Terminal reports whether s is an end state.
func (s State) Terminal() bool { return s == Completed || s == Failed || s == Canceled }

// AlertRef identifies the SIEM/SOAR alert a job came from, so later stages
// can update that alert.
type AlertRef struct {
	System string            `json:"system"`          // splunk | elastic | thehive | xsoar | generic
	ID     string            `json:"id"`              // the SIEM's own alert id (sid, alert uuid, ...)
	Link   string            `json:"link,omitempty"`  // a link back to the alert
	Extra  map[string]string `json:"extra,omitempty"` // search_name, rule name, case id, ...
}

// Spec is what to run.
type Spec struct {
	// IdempotencyKey makes a second submission with the same key return the
	// first job instead of creating another (Idempotency-Key header, or the
	// SIEM's alert id).
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Source says how the job arrived: "api" or a webhook kind.
	Source string `json:"source"`
	// Alert is set for jobs from webhooks.
	Alert *AlertRef `json:"alert,omitempty"`
	// InputFormat is an input.Format name ("auto", "text", "json", "eml", ...).
	InputFormat string `json:"input_format"`
	// Input is the body to extract IOCs from, stored as received.
	Input []byte `json:"-"`
	// TLP is the marking of untagged IOCs in the input ("" = config default).
	TLP string `json:"tlp,omitempty"`
	// Providers restricts external providers, like --providers.
	Providers []string `json:"providers,omitempty"`
	// Timeout bounds the whole job; 0 means the queue's default.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Counts summarise a job's results.
type Counts struct {
	IOCs       int `json:"iocs"`
	Done       int `json:"done"`
	Malicious  int `json:"malicious"`
	Suspicious int `json:"suspicious"`
	Benign     int `json:"benign"`
	Unknown    int `json:"unknown"`
}

// Job is a submitted job's state.
type Job struct {
	ID         string    `json:"id"`
	State      State     `json:"state"`
	Source     string    `json:"source"`
	Alert      *AlertRef `json:"alert,omitempty"`
	Counts     Counts    `json:"counts"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// ErrNotFound is returned for an unknown job id.
var ErrNotFound = errors.New("jobs: no such job")

// Queue accepts, runs and reports jobs.
type Queue interface {
	// Submit stores the job durably and returns it; existing is true when
	// the idempotency key matched an earlier job, which is returned instead.
	Submit(ctx context.Context, s Spec) (j Job, existing bool, err error)
	// Get returns a job's state and counts.
	Get(ctx context.Context, id string) (Job, error)
	// Results calls fn with each stored result of the job, in a stable order.
	Results(ctx context.Context, id string, fn func(result.Result) error) error
	// Cancel stops a queued or running job; its state becomes canceled.
	Cancel(ctx context.Context, id string) error
	// Depth returns the number of queued and running jobs.
	Depth(ctx context.Context) (queued, running int, err error)
}
