package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/iocane/iocane/internal/jobs"
)

// Sentinel errors; a message failing with ErrMalformed, ErrTooLarge or
// ErrUnsupported goes to the failed folder, the others end the poll.
var (
	// ErrMalformed means a message (or its attached original) is not a
	// MIME message iocane can take apart.
	ErrMalformed = errors.New("malformed message")
	// ErrTooLarge means a message is over Config.MaxSize.
	ErrTooLarge = errors.New("message over the size cap")
	// ErrUnsupported means the original is attached in a form iocane does
	// not read (an Outlook .msg file).
	ErrUnsupported = errors.New("unsupported attachment")
	// ErrRateLimited means the server asked to slow down (Graph 429 or
	// 503); the poll stops and the next interval retries.
	ErrRateLimited = errors.New("rate limited by the mail server")
	// ErrUnauthorized means the credentials were refused.
	ErrUnauthorized = errors.New("unauthorized: check the mailbox credentials")
	// errGone means the message left the folder after it was listed
	// (another replica moved it, a user deleted it); it is skipped.
	errGone = errors.New("message no longer in the folder")
)

// StatusError is a non-success answer of the Graph API. Body is a short
// excerpt; RetryAfter is set from a Retry-After header.
type StatusError struct {
	Code       int
	Body       string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := "graph: http status " + strconv.Itoa(e.Code)
	if e.RetryAfter > 0 {
		s += ", retry after " + e.RetryAfter.String()
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Unwrap maps the status to ErrRateLimited or ErrUnauthorized.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return ErrRateLimited
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	}
	return nil
}

// Submitter is the job queue (jobs.Queue has this method).
type Submitter interface {
	Submit(ctx context.Context, s jobs.Spec) (jobs.Job, bool, error)
}

// Stats count what one poll did.
type Stats struct {
	Seen      int // messages looked at
	Submitted int // new jobs
	Existing  int // jobs submitted before (a retried move)
	Failed    int // messages moved to the failed folder
}

// backend is one mail access protocol; a session lasts one poll.
type backend interface {
	open(ctx context.Context) (session, error)
}

// message is a listed message; ref is the backend's handle (a UID, a
// Graph id), size is 0 when the listing does not say.
type message struct {
	ref  string
	size int64
}

type session interface {
	// list returns at most n messages of the polled folder.
	list(ctx context.Context, n int) ([]message, error)
	// fetch returns the raw message, failing with ErrTooLarge past max bytes.
	fetch(ctx context.Context, m message, max int64) ([]byte, error)
	// move moves the message to the named folder.
	move(ctx context.Context, m message, folder string) error
	close() error
}

// Poller turns a mailbox's reported messages into jobs.
type Poller struct {
	cfg Config
	q   Submitter
	log *slog.Logger
	be  backend
	// onSubmitted is Options.OnSubmitted.
	onSubmitted func(ctx context.Context, r Report, j jobs.Job)
}

// New checks c and builds a Poller; it does no I/O.
func New(c Config, q Submitter, o Options) (*Poller, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if q == nil {
		return nil, fmt.Errorf("mailbox %s: no job queue", c.Name)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	p := &Poller{cfg: c, q: q, log: o.Logger.With("mailbox", c.Name, "kind", c.Kind), onSubmitted: o.OnSubmitted}
	switch c.Kind {
	case "imap":
		p.be, err = newIMAP(c, o)
	case "graph":
		p.be = newGraph(c, o)
	}
	return p, err
}

// Run polls every Interval until ctx ends. A failed poll is logged and the
// next interval tries again.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		st, err := p.Poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Warn("mailbox poll failed", "err", err, "seen", st.Seen, "submitted", st.Submitted, "existing", st.Existing, "failed", st.Failed)
		case st.Seen > 0:
			p.log.Info("mailbox polled", "seen", st.Seen, "submitted", st.Submitted, "existing", st.Existing, "failed", st.Failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll handles at most MaxMessages messages once. A message that cannot be
// analysed goes to the failed folder and the poll goes on; a connection,
// queue or move error ends the poll, leaving the message where it was for
// the next one (its idempotency key makes the retry submit nothing new).
func (p *Poller) Poll(ctx context.Context) (Stats, error) {
	var st Stats
	s, err := p.be.open(ctx)
	if err != nil {
		return st, fmt.Errorf("mailbox %s: %w", p.cfg.Name, err)
	}
	defer func() {
		if cerr := s.close(); cerr != nil {
			p.log.Debug("mailbox close", "err", cerr)
		}
	}()
	msgs, err := s.list(ctx, p.cfg.MaxMessages)
	if err != nil {
		return st, fmt.Errorf("mailbox %s: list: %w", p.cfg.Name, err)
	}
	for _, m := range msgs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Seen++
		if err := p.handle(ctx, s, m, &st); err != nil {
			return st, fmt.Errorf("mailbox %s: message %s: %w", p.cfg.Name, m.ref, err)
		}
	}
	return st, nil
}

// handle submits one message and moves it; it returns an error only for
// what should end the poll.
func (p *Poller) handle(ctx context.Context, s session, m message, st *Stats) error {
	var raw []byte
	var err error
	if m.size > p.cfg.MaxSize {
		err = fmt.Errorf("%w: %d bytes, the cap is %d", ErrTooLarge, m.size, p.cfg.MaxSize)
	} else {
		raw, err = s.fetch(ctx, m, p.cfg.MaxSize)
	}
	if errors.Is(err, errGone) {
		p.log.Debug("mailbox message gone", "ref", m.ref)
		return nil
	}
	var r Report
	if err == nil {
		r, err = unwrapSafe(raw)
	}
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupported) {
			return fmt.Errorf("fetch: %w", err)
		}
		p.log.Warn("mailbox message failed", "ref", m.ref, "reason", err.Error(), "folder", p.cfg.FailedFolder)
		if err := s.move(ctx, m, p.cfg.FailedFolder); err != nil {
			return fmt.Errorf("move to %s: %w", p.cfg.FailedFolder, err)
		}
		st.Failed++
		return nil
	}
	j, existing, err := p.q.Submit(ctx, p.spec(r))
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if existing {
		st.Existing++
	} else {
		st.Submitted++
	}
	p.log.Info("mailbox message submitted", "ref", m.ref, "message_id", r.MessageID, "job", j.ID, "existing", existing, "attached", r.Attached)
	if !existing && p.onSubmitted != nil {
		p.onSubmitted(ctx, r, j) // e.g. the "received" reply to the reporter
	}
	if err := s.move(ctx, m, p.cfg.ProcessedFolder); err != nil && !errors.Is(err, errGone) {
		return fmt.Errorf("move to %s: %w", p.cfg.ProcessedFolder, err)
	}
	return nil
}

// spec is the job of one report.
func (p *Poller) spec(r Report) jobs.Spec {
	return jobs.Spec{
		IdempotencyKey: "mailbox:" + p.cfg.Name + ":" + r.MessageID,
		Source:         "mailbox",
		Alert: &jobs.AlertRef{System: "mailbox", ID: r.MessageID, Extra: map[string]string{
			"reporter": r.Reporter, "subject": r.Subject, "mailbox": p.cfg.Name,
		}},
		InputFormat: "eml",
		Input:       r.Original,
		TLP:         p.cfg.TLP,
	}
}

// unwrapSafe is Unwrap that turns a panic on a hostile message into
// ErrMalformed, so one message cannot stop the poller.
func unwrapSafe(raw []byte) (r Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			r, err = Report{}, fmt.Errorf("%w: %v", ErrMalformed, v)
		}
	}()
	return Unwrap(raw)
}
