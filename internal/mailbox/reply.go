package mailbox

import (
	"fmt"
	"strings"

	"github.com/iocane/iocane/internal/jobs"
)

// The replies to a reporter (Config.Reply): "received" when the report
// became a job, and the verdict when the job completed. They never hold a
// live link: the reported subject is defanged, and no IOC value is
// quoted, only counts.

var defang = strings.NewReplacer("http://", "hxxp://", "https://", "hxxps://", ".", "[.]", "@", "[@]")

// ReplySubject is the subject of both replies.
func ReplySubject(reported string) string {
	return "Re: " + defang.Replace(clipLine(reported, 150))
}

// ReceivedText is the first reply: the report arrived and is being looked at.
func ReceivedText(reported, jobID string) string {
	return fmt.Sprintf(`Thank you for reporting a suspicious message.

We received your report of %q and are analysing the message you attached.
Reference: %s

Please do not open links or attachments in the reported message, and do not
reply to its sender. We will write again when the analysis is done.

-- security operations (sent automatically by iocane)
`, defang.Replace(clipLine(reported, 150)), jobID)
}

// VerdictText is the second reply: what the analysis found, in counts.
func VerdictText(reported string, j jobs.Job) string {
	c := j.Counts
	var found string
	switch {
	case c.Malicious > 0:
		found = fmt.Sprintf("it is malicious: %d indicator(s) in it are known to be malicious", c.Malicious)
		if c.Suspicious > 0 {
			found += fmt.Sprintf(" and %d suspicious", c.Suspicious)
		}
		found += ". Thank you: your report helps protect everyone. Delete the message; the security team will follow up if needed."
	case c.Suspicious > 0:
		found = fmt.Sprintf("it is suspicious: %d indicator(s) in it need a closer look. The security team will follow up; until then, do not act on the message.", c.Suspicious)
	default:
		found = "none of its indicators is known to be malicious. That does not make it safe: if it asks you for credentials or payment, contact the security team."
	}
	return fmt.Sprintf(`The analysis of the message you reported (%q) is done:
%s

Reference: %s

-- security operations (sent automatically by iocane)
`, defang.Replace(clipLine(reported, 150)), found, j.ID)
}

func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
