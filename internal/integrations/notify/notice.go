package notify

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Notice is a message about iocane itself, not an alert: a provider's
// quota running low. No rule, dedupe or rate limit applies; the caller
// sends each notice once.
type Notice struct {
	// Kind names the notice for machines: "quota_low".
	Kind      string    `json:"kind"`
	Provider  string    `json:"provider"`
	Period    string    `json:"period"` // "daily", "monthly", ...
	Limit     int64     `json:"limit"`
	Remaining int64     `json:"remaining"`
	ResetsAt  time.Time `json:"resets_at"`
}

// Title is the notice's one line:
// "iocane: virustotal daily quota low: 42 of 500 left, resets 2026-12-05 00:00Z".
func (n Notice) Title() string {
	return fmt.Sprintf("iocane: %s %s quota low: %d of %d left, resets %s", n.Provider, n.Period, n.Remaining, n.Limit,
		n.ResetsAt.UTC().Format("2006-01-02 15:04Z"))
}

// Text says what happens next.
func (n Notice) Text() string {
	return fmt.Sprintf("Fewer than 10%% of %s's %s look-ups are left. When they are spent, server jobs defer %s's look-ups "+
		"until the reset and the CLI reports them rate_limited; the other providers still answer. "+
		"Tiering (tiering: on) spends the rest only where it decides a verdict.", n.Provider, n.Period, n.Provider)
}

// WebhookNotice is the generic webhook's body for a notice.
type WebhookNotice struct {
	Type string `json:"type"` // "iocane.notice"
	Notice
	Title string `json:"title"`
}

// Notify sends n to every channel. It returns the channels' errors joined;
// one failing channel does not keep the notice from the others.
func (s *Set) Notify(ctx context.Context, n Notice) error {
	var errs []error
	for _, nt := range s.notifiers {
		if err := nt.t.notice(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("%s: notice: %w", nt.name, scrubErr(err, nt.secrets...)))
		}
	}
	return errors.Join(errs...)
}

func (t slackTransport) notice(ctx context.Context, n Notice) error {
	title := n.Title()
	return t.p.post(ctx, slackMessage{Text: slackEscape(title), Blocks: []slackBlock{
		{Type: "header", Text: plain(clip(title, slackHeaderMax))},
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackEscape(n.Text())}},
		{Type: "context", Elements: []any{mrkdwn(informOnly)}},
	}})
}

func (t teamsTransport) notice(ctx context.Context, n Notice) error {
	c := newCard()
	c.Body = append(c.Body, text(teamsEscape(n.Title())), text(teamsEscape(n.Text())))
	return t.p.post(ctx, envelope(c))
}

func (t webhookTransport) notice(ctx context.Context, n Notice) error {
	return t.p.post(ctx, WebhookNotice{Type: "iocane.notice", Notice: n, Title: n.Title()})
}

var noticeHTML = template.Must(template.New("notice").Parse(`<p><strong>{{.Title}}</strong></p><p>{{.Text}}</p>`))

func (t *emailTransport) notice(ctx context.Context, n Notice) error {
	var html strings.Builder
	if err := noticeHTML.Execute(&html, map[string]string{"Title": n.Title(), "Text": n.Text()}); err != nil {
		return permanent(fmt.Errorf("rendering: %w", err))
	}
	key := "notice:" + n.Kind + ":" + n.Provider + ":" + n.Period + ":" + n.ResetsAt.UTC().Format(time.RFC3339)
	return t.deliver(ctx, "[iocane] "+strings.TrimPrefix(n.Title(), "iocane: "), n.Title()+"\n\n"+n.Text()+"\n", html.String(), key)
}
