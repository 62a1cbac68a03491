package notify

import "context"

// webhookTransport posts the message as JSON to a generic URL, signed with
// HMAC-SHA256 like iocane's webhook intake when a secret is configured.
type webhookTransport struct{ p poster }

// WebhookMessage is the generic webhook's body for one alert.
type WebhookMessage struct {
	Type  string `json:"type"` // "iocane.notification"
	Alert Alert  `json:"alert"`
	IOCs  []Item `json:"iocs"`
	More  int    `json:"more,omitempty"`
	// Withheld counts matched IOCs above the channel's max_tlp, left out.
	Withheld int    `json:"withheld,omitempty"`
	Link     string `json:"link,omitempty"`
}

// WebhookDigest is the generic webhook's body for a digest.
type WebhookDigest struct {
	Type   string  `json:"type"` // "iocane.digest"
	Part   int     `json:"part"`
	Parts  int     `json:"parts"`
	Held   int     `json:"held"`
	Alerts []Entry `json:"alerts"`
}

func (t webhookTransport) send(ctx context.Context, m Message) error {
	return t.p.post(ctx, WebhookMessage{Type: "iocane.notification", Alert: m.Alert, IOCs: m.IOCs, More: m.More, Withheld: m.Withheld, Link: m.Link})
}

func (t webhookTransport) sendDigest(ctx context.Context, d Digest) error {
	return t.p.post(ctx, WebhookDigest{Type: "iocane.digest", Part: d.Part, Parts: d.Parts, Held: d.Held, Alerts: d.Entries})
}
