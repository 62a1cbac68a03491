package mailbox

import (
	"context"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/jobs"
)

// TestRepliesHoldNoLiveLink: the replies to a reporter quote the reported
// subject defanged and give counts, never an IOC value or a link.
func TestRepliesHoldNoLiveLink(t *testing.T) {
	subject := "Your invoice https://evil-payload.xyz/pay.php from billing@evil-payload.xyz"
	j := jobs.Job{ID: "job-42", Counts: jobs.Counts{Malicious: 2, Suspicious: 1}}
	for name, text := range map[string]string{
		"subject":  ReplySubject(subject),
		"received": ReceivedText(subject, "job-42"),
		"verdict":  VerdictText(subject, j),
	} {
		for _, live := range []string{"https://", "http://", "evil-payload.xyz", "@evil"} {
			if strings.Contains(text, live) {
				t.Errorf("%s holds %q:\n%s", name, live, text)
			}
		}
	}
	if v := VerdictText(subject, j); !strings.Contains(v, "it is malicious: 2 indicator(s)") || !strings.Contains(v, "and 1 suspicious") || !strings.Contains(v, "job-42") {
		t.Errorf("verdict:\n%s", v)
	}
	if v := VerdictText(subject, jobs.Job{ID: "j"}); !strings.Contains(v, "does not make it safe") {
		t.Errorf("nothing found:\n%s", v)
	}
}

// TestOnSubmittedAtMostOnce: the "received" hook hears of a report when
// its job is new; a retried poll that finds the job submitted before
// (after a crash between the job and the move) does not repeat it, so the
// reporter gets the reply at most once.
func TestOnSubmittedAtMostOnce(t *testing.T) {
	srv := startIMAP(t, serverOpts{})
	srv.deliver(t, fixture(t, "report-rfc822.eml"))
	var heard []Report
	o := Options{OnSubmitted: func(_ context.Context, r Report, _ jobs.Job) { heard = append(heard, r) }}
	q := &fakeQueue{}
	newTestPoller(t, srv.config(), q, o).Poll(context.Background())
	newTestPoller(t, srv.config(), q, o).Poll(context.Background()) // moved: nothing left
	if len(heard) != 1 || heard[0].Reporter == "" || heard[0].Subject == "" {
		t.Fatalf("heard %d reports: %+v", len(heard), heard)
	}

	crashed := startIMAP(t, serverOpts{})
	crashed.deliver(t, fixture(t, "report-rfc822.eml"))
	heard = nil
	cq := &fakeQueue{failAfterStore: true}
	newTestPoller(t, crashed.config(), cq, o).Poll(context.Background()) // stored, then the "crash"
	newTestPoller(t, crashed.config(), cq, o).Poll(context.Background()) // the retry finds the job
	if len(heard) != 0 {
		t.Errorf("a retried report was replied to: %+v", heard)
	}
}
