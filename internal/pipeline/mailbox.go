package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/mailbox"
)

// MailboxStats is what one poll of one mailbox did.
type MailboxStats struct {
	Name string
	mailbox.Stats
}

// PollMailboxes polls the configured mailboxes (only the one called name,
// when not empty) from the CLI: once each with once, else on their
// intervals until ctx ends. The jobs go into the store's queue, where
// `iocane serve` (now or at its next start) runs them.
func (p *Pipeline) PollMailboxes(ctx context.Context, name string, once bool, log *slog.Logger) ([]MailboxStats, error) {
	var chosen []mailbox.Config
	for _, mc := range p.Settings.Mailboxes {
		if name == "" || mc.Name == name {
			chosen = append(chosen, mc)
		}
	}
	if len(chosen) == 0 {
		if name != "" {
			return nil, configErr(fmt.Errorf("no mailbox named %q in the config", name))
		}
		return nil, configErr(errors.New("no mailbox is configured: add one under mailboxes: in the config"))
	}
	qo, closePools, err := p.queuePools(ctx)
	if err != nil {
		return nil, err
	}
	defer closePools()
	qo.Logger = log
	q, err := jobs.Open(ctx, qo) // submits only: the server runs the jobs
	if err != nil {
		return nil, err
	}
	defer q.Close()
	var stats []MailboxStats
	var errs []error
	for _, mc := range chosen {
		mp, err := mailbox.New(mc, q, mailbox.Options{Logger: log.With("mailbox", mc.Name)})
		if err != nil {
			return nil, configErr(err)
		}
		if !once {
			go mp.Run(ctx)
			continue
		}
		st, err := mp.Poll(ctx)
		stats = append(stats, MailboxStats{Name: mc.Name, Stats: st})
		if err != nil {
			errs = append(errs, fmt.Errorf("mailbox %s: %w", mc.Name, err))
		}
	}
	if !once {
		<-ctx.Done()
	}
	return stats, errors.Join(errs...)
}

// replies returns the hooks that write to the people who report phishing,
// for the mailboxes with reply: true: "received" when a report became a
// job, the verdict when its job completed. Each goes through the
// notify.email channel in the background; a failure is logged.
func (p *Pipeline) replies(n *notify.Set, log *slog.Logger) (onSubmitted func(context.Context, mailbox.Report, jobs.Job), onComplete func(jobs.Job)) {
	reply := map[string]bool{}
	for _, mc := range p.Settings.Mailboxes {
		reply[mc.Name] = mc.Reply
	}
	send := func(to, subject, text string) {
		if to == "" {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := n.Reply(ctx, to, subject, text); err != nil {
				log.Warn("reply to the reporter not sent", "error", err)
			}
		}()
	}
	onSubmitted = func(_ context.Context, r mailbox.Report, j jobs.Job) {
		if j.Alert != nil && reply[j.Alert.Extra["mailbox"]] {
			send(r.Reporter, mailbox.ReplySubject(r.Subject), mailbox.ReceivedText(r.Subject, j.ID))
		}
	}
	onComplete = func(j jobs.Job) {
		if j.Source != "mailbox" || j.Alert == nil || !reply[j.Alert.Extra["mailbox"]] || j.State != jobs.Completed {
			return
		}
		subject := j.Alert.Extra["subject"]
		send(j.Alert.Extra["reporter"], mailbox.ReplySubject(subject), mailbox.VerdictText(subject, j))
	}
	return onSubmitted, onComplete
}
