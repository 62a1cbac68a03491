package notify

import (
	"context"
	"errors"
	"fmt"
	"html/template"
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

// Reply e-mails one person (a user who reported phishing) through the
// e-mail channel: a plain-text message, with its text HTML-escaped as the
// alternative. Like a report it is not an alert. The caller writes text
// with no live link.
func (s *Set) Reply(ctx context.Context, to, subject, text string) error {
	for _, n := range s.notifiers {
		if t, ok := n.t.(*emailTransport); ok {
			html := "<pre>" + template.HTMLEscapeString(text) + "</pre>"
			if err := t.deliverTo(ctx, []string{to}, subject, text, html, ""); err != nil {
				return fmt.Errorf("%s: reply: %w", n.name, scrubErr(err, n.secrets...))
			}
			return nil
		}
	}
	return ErrNoEmail
}
