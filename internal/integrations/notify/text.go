package notify

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/iocane/iocane/internal/result"
)

// Texts shared by every channel.

// headline is a message's one-line title.
func headline(m Message) string {
	if len(m.IOCs) == 0 && m.More == 0 {
		return fmt.Sprintf("iocane: %s in %s", withheldText(m), m.Alert.Title())
	}
	n := len(m.IOCs) + m.More
	worst := result.Unknown
	if len(m.IOCs) > 0 {
		worst = m.IOCs[0].Verdict
	}
	noun := "IOCs"
	if n == 1 {
		noun = "IOC"
	}
	return fmt.Sprintf("iocane: %d %s %s in %s", n, worst, noun, m.Alert.Title())
}

// digestHeadline is a digest's one-line title.
func digestHeadline(d Digest) string {
	s := fmt.Sprintf("iocane digest: %d alerts held by the notification rate limit", d.Held)
	switch {
	case d.Parts > 1 && d.Pieces > 1:
		s += fmt.Sprintf(" (part %d.%d of %d)", d.Part, d.Piece, d.Parts)
	case d.Parts > 1:
		s += fmt.Sprintf(" (part %d of %d)", d.Part, d.Parts)
	case d.Pieces > 1:
		s += fmt.Sprintf(" (part %d of %d)", d.Piece, d.Pieces)
	}
	return s
}

// withheldText says how many matched IOCs the channel's max_tlp kept out:
// "1 TLP:RED indicator withheld: see the result". "" when none was.
func withheldText(m Message) string {
	if m.Withheld == 0 {
		return ""
	}
	noun := "indicators"
	if m.Withheld == 1 {
		noun = "indicator"
	}
	return fmt.Sprintf("%d TLP:%s %s withheld: see the result", m.Withheld, strings.ToUpper(m.WithheldTLP.String()), noun)
}

// informOnly closes every message: iocane informs, it does not act.
const informOnly = "Informational: iocane enriches and informs; it takes no blocking or remediation action."

// itemLine is an IOC's summary line: "malicious · score 87 · ipv4 185[.]220[.]101[.]47".
func itemLine(it Item) string {
	return fmt.Sprintf("%s · score %d · %s %s", it.Verdict, it.Score, it.Type, clip(Defang(it.Type, it.Value), maxValue))
}

// maxValue is the most of an IOC's value a chat message shows: a URL can
// run to kilobytes, and the full value is in the result.
const maxValue = 300

// entryLine is a digest entry's line without links.
func entryLine(e Entry) string { return e.Alert.Title() + entryTail(e) }

// entryTail is entryLine after the alert's title (which links to the alert
// where the channel has links).
func entryTail(e Entry) string {
	s := fmt.Sprintf(" · %s %d", e.Worst, e.Score)
	switch {
	case e.Count == 1:
		s += fmt.Sprintf(" · %s %s", e.Top.Type, Defang(e.Top.Type, e.Top.Value))
	case e.Count > 1:
		s += fmt.Sprintf(" · %d IOCs, worst %s %s", e.Count, e.Top.Type, Defang(e.Top.Type, e.Top.Value))
	}
	return s
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}
