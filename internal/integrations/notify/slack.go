package notify

import (
	"context"
	"fmt"
	"strings"
)

// slackTransport posts Block Kit messages to a Slack incoming webhook
// (POST JSON {"text", "blocks"}; Slack answers 200 "ok", or 400
// invalid_payload, 403 invalid_token, 404 no_service, 410
// channel_is_archived, which are permanent).
type slackTransport struct{ p poster }

// Slack Block Kit limits: 50 blocks per message, 150 characters of header
// text, 3000 of section text.
const (
	slackMaxBlocks  = 50
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
)

// maxLink is the longest link a message renders as a link; a longer one
// (a SIEM's search URL can run to kilobytes) would pass a field's limit,
// and clipped it would no longer work, so the title is shown without it.
const maxLink = 1000

// field is a section field's text, within Slack's limit.
func field(label, value string) slackText {
	return mrkdwn(clip("*"+label+"*\n"+value, slackFieldMax))
}

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji,omitempty"`
}

type slackElement struct {
	Type     string     `json:"type"`
	Text     *slackText `json:"text,omitempty"`
	URL      string     `json:"url,omitempty"`
	ActionID string     `json:"action_id,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func (t slackTransport) send(ctx context.Context, m Message) error {
	return t.p.post(ctx, slackBody(m))
}

func (t slackTransport) sendDigest(ctx context.Context, d Digest) error {
	return t.p.post(ctx, slackDigestBody(d))
}

var no = false

func mrkdwn(s string) slackText { return slackText{Type: "mrkdwn", Text: s} }

func plain(s string) *slackText { return &slackText{Type: "plain_text", Text: s, Emoji: &no} }

// slackBody renders m as a Block Kit message: a header, the alert's
// fields, a section per IOC, a context line and a button that opens the
// full result (a link button: it triggers nothing in iocane).
func slackBody(m Message) slackMessage {
	title := headline(m)
	msg := slackMessage{Text: slackEscape(title)}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "header", Text: plain(clip(title, slackHeaderMax))})
	alert := m.Alert.Title()
	if m.Alert.Link != "" && len(m.Alert.Link) <= maxLink {
		alert = slackLink(m.Alert.Link, alert)
	} else {
		alert = slackEscape(alert)
	}
	fields := []slackText{field("Alert", alert)}
	if m.Alert.System != "" {
		fields = append(fields, field("System", slackEscape(m.Alert.System)))
	}
	if m.Alert.ID != "" {
		fields = append(fields, field("Alert ID", slackCode(clip(m.Alert.ID, 300))))
	}
	fields = append(fields, field("Job", slackCode(m.Alert.JobID)))
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Fields: fields}, slackBlock{Type: "divider"})
	room := slackMaxBlocks - len(msg.Blocks) - 2
	more := m.More
	for i, it := range m.IOCs {
		if i >= room {
			more += len(m.IOCs) - i
			break
		}
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackItem(it)}})
	}
	ctxText := informOnly
	if more > 0 {
		ctxText = fmt.Sprintf("%d more IOCs in the full result. %s", more, informOnly)
	}
	if w := withheldText(m); w != "" {
		ctxText = w + ". " + ctxText
	}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []any{mrkdwn(ctxText)}})
	if m.Link != "" {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "actions", Elements: []any{
			slackElement{Type: "button", Text: plain("View full result"), URL: m.Link, ActionID: "iocane_view_result"},
		}})
	}
	return msg
}

// slackItem is one IOC's section text: verdict line (the value set as code,
// so Slack does not link it), top reasons, provider links.
func slackItem(it Item) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* · score %d · %s %s", it.Verdict, it.Score, it.Type, slackCode(clip(Defang(it.Type, it.Value), maxValue)))
	for _, r := range it.Reasons {
		b.WriteString("\n• " + slackEscape(clip(r, 300)))
	}
	if len(it.Links) > 0 {
		links := make([]string, len(it.Links))
		for i, l := range it.Links {
			links[i] = slackLink(l.URL, l.Provider)
		}
		b.WriteString("\n" + strings.Join(links, " · "))
	}
	return clip(b.String(), slackSectionMax)
}

// slackDigestBody lists every held alert of d, a line each, packed into
// sections under Slack's size limits.
func slackDigestBody(d Digest) slackMessage {
	title := digestHeadline(d)
	msg := slackMessage{Text: slackEscape(title)}
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "header", Text: plain(clip(title, slackHeaderMax))})
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: cur.String()}})
			cur.Reset()
		}
	}
	for _, e := range d.Entries {
		line := "• " + slackEntry(e)
		if cur.Len()+len(line)+1 > slackSectionMax {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteString("\n")
		}
		cur.WriteString(line)
	}
	flush()
	msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []any{mrkdwn(informOnly)}})
	return msg
}

func slackEntry(e Entry) string {
	title := e.Alert.Title()
	s := slackEscape(title)
	if e.Alert.Link != "" && len(e.Alert.Link) <= maxLink {
		s = slackLink(e.Alert.Link, title)
	}
	s += slackEscape(clip(entryTail(e), 300))
	if e.Link != "" {
		s += " · " + slackLink(e.Link, "result")
	}
	return s
}

// slackCode sets s as inline code: no formatting, no auto-linking.
func slackCode(s string) string {
	return "`" + slackEscape(strings.ReplaceAll(s, "`", "'")) + "`"
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink is <url|text>, with the characters that would end it encoded.
func slackLink(u, text string) string {
	u = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(u)
	return "<" + u + "|" + strings.ReplaceAll(slackEscape(text), "|", "¦") + ">"
}
