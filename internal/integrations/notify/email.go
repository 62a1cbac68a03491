package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"net"
	"slices"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// emailTransport sends through an SMTP relay with go-mail: STARTTLS
// (mandatory by default), SMTP AUTH when a username is set (go-mail's
// auto-discovery, which never picks PLAIN or LOGIN on an unencrypted
// connection), one multipart/alternative message (text/plain and
// text/html) per notification.
type emailTransport struct {
	c    SMTPConfig
	opts []mail.Option
	now  func() time.Time
	from string
}

func newEmailTransport(c SMTPConfig, o Options) (*emailTransport, error) {
	policy := map[string]mail.TLSPolicy{"mandatory": mail.TLSMandatory, "opportunistic": mail.TLSOpportunistic, "none": mail.NoTLS}[c.StartTLS]
	tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if o.SMTPTLS != nil {
		tc = o.SMTPTLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName = c.Host
		}
	}
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTLSPolicy(policy), mail.WithTLSConfig(tc), mail.WithTimeout(30 * time.Second)}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username), mail.WithPassword(c.Password.Reveal()))
	}
	if _, err := mail.NewClient(c.Host, opts...); err != nil {
		return nil, fmt.Errorf("config: notify.email: %w", scrubErr(err, c.Password))
	}
	if err := mail.NewMsg().From(c.From); err != nil {
		return nil, fmt.Errorf("config: notify.email.from: %q is not an address", c.From)
	}
	if err := mail.NewMsg().To(c.To...); err != nil {
		return nil, errors.New("config: notify.email.to: an address is not valid")
	}
	return &emailTransport{c: c, opts: opts, now: o.Now, from: c.From}, nil
}

func (t *emailTransport) send(ctx context.Context, m Message) error {
	var txt, html strings.Builder
	emailText(&txt, m)
	if err := emailHTML.ExecuteTemplate(&html, "message", m); err != nil {
		return permanent(fmt.Errorf("rendering: %w", err))
	}
	return t.deliver(ctx, "[iocane] "+headline(m), txt.String(), html.String(), m.Alert.Key)
}

func (t *emailTransport) sendDigest(ctx context.Context, d Digest) error {
	var txt, html strings.Builder
	txt.WriteString(digestHeadline(d) + "\n\n")
	for _, e := range d.Entries {
		txt.WriteString("- " + entryLine(e) + "\n")
		if e.Alert.Link != "" {
			txt.WriteString("  alert:  " + e.Alert.Link + "\n")
		}
		if e.Link != "" {
			txt.WriteString("  result: " + e.Link + "\n")
		}
	}
	txt.WriteString("\n" + informOnly + "\n")
	if err := emailHTML.ExecuteTemplate(&html, "digest", d); err != nil {
		return permanent(fmt.Errorf("rendering: %w", err))
	}
	return t.deliver(ctx, "[iocane] "+digestHeadline(d), txt.String(), html.String(), "")
}

func (t *emailTransport) deliver(ctx context.Context, subject, txt, html, alert string) error {
	return t.deliverTo(ctx, t.c.To, subject, txt, html, alert)
}

// deliverTo sends one message to the addresses to.
func (t *emailTransport) deliverTo(ctx context.Context, to []string, subject, txt, html, alert string) error {
	msg := mail.NewMsg()
	if err := msg.From(t.from); err != nil {
		return permanent(err)
	}
	if err := msg.To(to...); err != nil {
		return permanent(err)
	}
	msg.Subject(subject)
	msg.SetDateWithValue(t.now())
	msg.SetMessageID()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if alert != "" {
		msg.SetGenHeader("X-Iocane-Alert", alert)
	}
	msg.SetBodyString(mail.TypeTextPlain, txt)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	// go-mail v0.8.1 leaves the connection open when the session fails
	// after the greeting (e.g. no STARTTLS offered under the mandatory
	// policy): dial through a func that keeps the connection, and close it.
	var conn net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		conn = c
		return c, err
	}
	mc, err := mail.NewClient(t.c.Host, append(slices.Clip(t.opts), mail.WithDialContextFunc(dial))...)
	if err != nil {
		return permanent(scrubErr(err, t.c.Password))
	}
	err = mc.DialAndSendWithContext(ctx, msg)
	if conn != nil {
		_ = conn.Close() // after QUIT this is a no-op
	}
	if err != nil {
		return fmt.Errorf("smtp %s:%d: %w", t.c.Host, t.c.Port, scrubErr(err, t.c.Password))
	}
	return nil
}

func emailText(b *strings.Builder, m Message) {
	b.WriteString(headline(m) + "\n\n")
	b.WriteString("Alert:    " + m.Alert.Title() + "\n")
	if m.Alert.System != "" {
		b.WriteString("System:   " + m.Alert.System + "\n")
	}
	if m.Alert.ID != "" {
		b.WriteString("Alert ID: " + m.Alert.ID + "\n")
	}
	if m.Alert.Link != "" {
		b.WriteString("Link:     " + m.Alert.Link + "\n")
	}
	b.WriteString("Job:      " + m.Alert.JobID + "\n")
	for _, it := range m.IOCs {
		b.WriteString("\n* " + itemLine(it) + "\n")
		for _, r := range it.Reasons {
			b.WriteString("    - " + r + "\n")
		}
		for _, l := range it.Links {
			b.WriteString("    " + l.Provider + ": " + l.URL + "\n")
		}
	}
	if m.More > 0 {
		fmt.Fprintf(b, "\n%d more IOCs in the full result.\n", m.More)
	}
	if w := withheldText(m); w != "" {
		b.WriteString("\n" + w + ".\n")
	}
	if m.Link != "" {
		b.WriteString("\nFull result: " + m.Link + "\n")
	}
	b.WriteString("\n" + informOnly + "\n")
}

// emailHTML is the HTML part: inline styles only (mail readers drop <style>
// and never load external resources from iocane).
var emailHTML = template.Must(template.New("").Funcs(template.FuncMap{
	"headline": headline, "digestHeadline": digestHeadline, "defang": Defang, "entryTail": entryTail, "inform": func() string { return informOnly },
}).Parse(`{{define "message"}}<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 12px">{{headline .}}</h2>
<table style="border-collapse:collapse;margin-bottom:12px">
<tr><td style="padding:2px 12px 2px 0"><b>Alert</b></td><td>{{if .Alert.Link}}<a href="{{.Alert.Link}}">{{.Alert.Title}}</a>{{else}}{{.Alert.Title}}{{end}}</td></tr>
{{if .Alert.System}}<tr><td style="padding:2px 12px 2px 0"><b>System</b></td><td>{{.Alert.System}}</td></tr>{{end}}
{{if .Alert.ID}}<tr><td style="padding:2px 12px 2px 0"><b>Alert ID</b></td><td>{{.Alert.ID}}</td></tr>{{end}}
<tr><td style="padding:2px 12px 2px 0"><b>Job</b></td><td>{{.Alert.JobID}}</td></tr>
</table>
<table style="border-collapse:collapse;width:100%">
<tr style="background:#eee"><th align="left" style="padding:4px">IOC</th><th align="left" style="padding:4px">Verdict</th><th align="right" style="padding:4px">Score</th><th align="left" style="padding:4px">Top reasons</th><th align="left" style="padding:4px">Sources</th></tr>
{{range .IOCs}}<tr style="border-top:1px solid #ddd;vertical-align:top">
<td style="padding:4px"><code>{{defang .Type .Value}}</code><br><small>{{.Type}}</small></td>
<td style="padding:4px"><b>{{.Verdict}}</b></td>
<td align="right" style="padding:4px">{{.Score}}</td>
<td style="padding:4px">{{range .Reasons}}&bull; {{.}}<br>{{end}}</td>
<td style="padding:4px">{{range .Links}}<a href="{{.URL}}">{{.Provider}}</a><br>{{end}}</td>
</tr>{{end}}
</table>
{{if .More}}<p>{{.More}} more IOCs in the full result.</p>{{end}}
{{if .Link}}<p><a href="{{.Link}}">View the full result</a></p>{{end}}
<p style="color:#777;font-size:12px">{{inform}}</p>
</body></html>
{{end}}{{define "digest"}}<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 12px">{{digestHeadline .}}</h2>
<ul>
{{range .Entries}}<li>{{if .Alert.Link}}<a href="{{.Alert.Link}}">{{.Alert.Title}}</a>{{else}}{{.Alert.Title}}{{end}}{{entryTail .}}{{if .Link}} &middot; <a href="{{.Link}}">result</a>{{end}}</li>
{{end}}</ul>
<p style="color:#777;font-size:12px">{{inform}}</p>
</body></html>
{{end}}`))
