package notify

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoEmail is returned by EmailReport when no e-mail channel is configured.
var ErrNoEmail = errors.New("notify: no e-mail channel configured")

// EmailReport e-mails a report (the weekly pipeline report: a subject, a
// plain-text body and an HTML alternative) to the e-mail channel's
// recipients. It is not an alert: no rule, dedupe or rate limit applies.
func (s *Set) EmailReport(ctx context.Context, subject, text, html string) error {
	for _, n := range s.notifiers {
		if t, ok := n.t.(*emailTransport); ok {
			if err := t.deliver(ctx, subject, text, html, ""); err != nil {
				return fmt.Errorf("%s: report: %w", n.name, scrubErr(err, n.secrets...))
			}
			return nil
		}
	}
	return ErrNoEmail
}
