package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/pipeline"
)

func init() { addCommand(newMailboxCmd) }

func newMailboxCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "mailbox",
		Short: "Poll the reported-phishing mailboxes configured under mailboxes:",
		Long: `Users report phishing by forwarding it, or with Outlook's "Report" button,
to a mailbox. Each report becomes a job with source mailbox: the attached
original is analysed, never the reporter's wrapper, and the message is moved
to its processed folder once the job is stored (exactly once, across
restarts). iocane serve polls each mailbox on its interval and runs the
jobs; "iocane mailbox poll" polls from the command line, and the jobs wait
in the store for the server.`,
	}
	var name string
	var once bool
	poll := &cobra.Command{
		Use:     "poll",
		Short:   "Poll the mailboxes (or --name N): once with --once, else until interrupted",
		Example: "  iocane mailbox poll --once\n  iocane mailbox poll --name reports --once",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o := options(c.ErrOrStderr())
			o.StoreOnly = true
			p, err := pipeline.Open(ctx, o)
			if err != nil {
				return err
			}
			defer p.Close()
			log := slog.New(slog.NewTextHandler(c.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			stats, err := p.PollMailboxes(ctx, name, once, log)
			for _, st := range stats {
				fmt.Fprintf(c.OutOrStdout(), "%s: %d seen, %d new jobs, %d already submitted, %d failed\n",
					st.Name, st.Seen, st.Submitted, st.Existing, st.Failed)
			}
			return err
		},
	}
	poll.Flags().StringVar(&name, "name", "", "poll only this mailbox")
	poll.Flags().BoolVar(&once, "once", false, "poll once and exit (default: poll on each mailbox's interval until interrupted)")
	c.AddCommand(poll)
	return c
}
