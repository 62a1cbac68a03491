package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// teamsTransport posts an Adaptive Card to a Microsoft Teams Workflows
// webhook (the "Post to a channel when a webhook request is received"
// template, trigger "When a Teams webhook request is received").
//
// The envelope is the one Microsoft documents for sending Adaptive Cards to
// a Teams webhook: {"type": "message", "attachments": [{"contentType":
// "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content":
// <the card>}]} ("Send Adaptive Cards using an Incoming Webhook", MicrosoftDocs
// msteams-docs, msteams-platform/webhooks-and-connectors/how-to/connectors-using.md;
// https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using).
// The same page says Workflows support Adaptive Cards only, not the old
// MessageCard format, and the Workflows template posts
// attachments[0].content to the channel. Teams limits a message to 28 KB,
// and the supported actions are Action.OpenUrl, Action.ShowCard and
// Action.ToggleVisibility: the card uses Action.OpenUrl only, to open the
// full result. A Workflows webhook answers 202 Accepted.
type teamsTransport struct{ p poster }

// teamsMaxBody keeps a card under Teams' 28 KB message limit.
const teamsMaxBody = 26 << 10

type teamsEnvelope struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	MSTeams map[string]any `json:"msteams,omitempty"`
	Body    []any          `json:"body"`
	Actions []teamsAction  `json:"actions,omitempty"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type teamsTextBlock struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Wrap     bool   `json:"wrap"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsFactSet struct {
	Type  string      `json:"type"`
	Facts []teamsFact `json:"facts"`
}

type teamsContainer struct {
	Type      string `json:"type"`
	Separator bool   `json:"separator,omitempty"`
	Items     []any  `json:"items"`
}

func (t teamsTransport) send(ctx context.Context, m Message) error {
	return t.p.post(ctx, teamsBody(m))
}

// sendDigest posts d, split into as few pieces as fit Teams' size limit,
// each numbered ("part 1.2 of 5").
func (t teamsTransport) sendDigest(ctx context.Context, d Digest) error {
	pieces := 1
	for ; pieces < len(d.Entries); pieces++ {
		if fits(d, pieces) {
			break
		}
	}
	for i := range pieces {
		p := d
		p.Entries = d.Entries[i*len(d.Entries)/pieces : (i+1)*len(d.Entries)/pieces]
		if pieces > 1 {
			p.Piece, p.Pieces = i+1, pieces
		}
		if err := t.p.post(ctx, teamsDigestBody(p)); err != nil {
			return err
		}
	}
	return nil
}

// fits reports whether every piece of d split in n fits a Teams card.
func fits(d Digest, n int) bool {
	for i := range n {
		p := d
		p.Entries = d.Entries[i*len(d.Entries)/n : (i+1)*len(d.Entries)/n]
		p.Piece, p.Pieces = i+1, n
		if jsonLen(teamsDigestBody(p)) > teamsMaxBody {
			return false
		}
	}
	return true
}

// jsonLen is the size of v as JSON.
func jsonLen(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

func envelope(c teamsCard) teamsEnvelope {
	return teamsEnvelope{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive", Content: c,
	}}}
}

func newCard() teamsCard {
	return teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		MSTeams: map[string]any{"width": "Full"}}
}

func text(s string) teamsTextBlock { return teamsTextBlock{Type: "TextBlock", Text: s, Wrap: true} }

// teamsBody renders m as an Adaptive Card: a title, the alert's facts, a
// container per IOC, a note that iocane only informs, and an OpenUrl action
// to the full result.
func teamsBody(m Message) teamsEnvelope {
	c := newCard()
	title := text(headline(m))
	title.Size, title.Weight = "Large", "Bolder"
	alert := teamsEscape(m.Alert.Title())
	if m.Alert.Link != "" && len(m.Alert.Link) <= maxLink {
		alert = teamsLink(m.Alert.Link, m.Alert.Title())
	}
	facts := []teamsFact{{Title: "Alert", Value: alert}}
	if m.Alert.System != "" {
		facts = append(facts, teamsFact{Title: "System", Value: teamsEscape(m.Alert.System)})
	}
	if m.Alert.ID != "" {
		facts = append(facts, teamsFact{Title: "Alert ID", Value: teamsEscape(m.Alert.ID)})
	}
	facts = append(facts, teamsFact{Title: "Job", Value: teamsEscape(m.Alert.JobID)})
	c.Body = append(c.Body, title, teamsFactSet{Type: "FactSet", Facts: facts})
	// IOCs go in while the card stays under the size limit, with room
	// for the footer and the action; the rest are counted in the footer.
	room := teamsMaxBody - jsonLen(envelope(c)) - 1024
	more := m.More
	for i, it := range m.IOCs {
		head := text(teamsEscape(itemLine(it)))
		head.Weight, head.Color = "Bolder", teamsColor(it)
		items := []any{head}
		if len(it.Reasons) > 0 {
			lines := make([]string, len(it.Reasons))
			for i, r := range it.Reasons {
				lines[i] = "- " + teamsEscape(clip(r, 300))
			}
			items = append(items, text(strings.Join(lines, "\r")))
		}
		if len(it.Links) > 0 {
			links := make([]string, len(it.Links))
			for i, l := range it.Links {
				links[i] = teamsLink(l.URL, l.Provider)
			}
			items = append(items, text(strings.Join(links, " · ")))
		}
		box := teamsContainer{Type: "Container", Separator: true, Items: items}
		if room -= jsonLen(box) + 1; room < 0 {
			more += len(m.IOCs) - i
			break
		}
		c.Body = append(c.Body, box)
	}
	note := informOnly
	if more > 0 {
		note = fmt.Sprintf("%d more IOCs in the full result. %s", more, informOnly)
	}
	if w := withheldText(m); w != "" {
		note = w + ". " + note
	}
	foot := text(note)
	foot.IsSubtle, foot.Size, foot.Spacing = true, "Small", "Medium"
	c.Body = append(c.Body, foot)
	if m.Link != "" {
		c.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "View full result", URL: m.Link}}
	}
	return envelope(c)
}

// teamsDigestBody lists every held alert of d, one line each.
func teamsDigestBody(d Digest) teamsEnvelope {
	c := newCard()
	title := text(digestHeadline(d))
	title.Size, title.Weight = "Large", "Bolder"
	c.Body = append(c.Body, title)
	lines := make([]string, len(d.Entries))
	for i, e := range d.Entries {
		title := e.Alert.Title()
		s := teamsEscape(title)
		if e.Alert.Link != "" && len(e.Alert.Link) <= maxLink {
			s = teamsLink(e.Alert.Link, title)
		}
		s += teamsEscape(clip(entryTail(e), 300))
		if e.Link != "" {
			s += " · " + teamsLink(e.Link, "result")
		}
		lines[i] = "- " + s
	}
	c.Body = append(c.Body, text(strings.Join(lines, "\r")))
	foot := text(informOnly)
	foot.IsSubtle, foot.Size = true, "Small"
	c.Body = append(c.Body, foot)
	return envelope(c)
}

func teamsColor(it Item) string {
	switch it.Verdict {
	case "malicious":
		return "Attention"
	case "suspicious":
		return "Warning"
	}
	return "Default"
}

// teamsEscape keeps text from IOCs and reasons from forming a markdown link
// in the card. Adaptive Card markdown has no escape character, so "](" is
// broken apart rather than escaped; a defanged "[.]" stays as it is.
func teamsEscape(s string) string {
	return strings.NewReplacer("](", "] (", "\r", " ", "\n", " ").Replace(s)
}

func teamsLink(u, label string) string {
	u = strings.NewReplacer(" ", "%20", ")", "%29", "(", "%28").Replace(u)
	label = strings.NewReplacer("[", "(", "]", ")").Replace(label) // brackets would end the label
	return "[" + label + "](" + u + ")"
}
