package main

import (
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/pipeline"
)

func init() { addCommand(newFeedsCmd) }

func newFeedsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "feeds",
		Short: "Sync or list the threat feeds kept in the store (the local source feeds)",
		Long: `Threat feeds configured under feeds: (TAXII 2.1 collections, CSV and text
lists such as abuse.ch's exports) are kept in the store and matched by the
local source "feeds": no quota is spent on an IOC a feed holds. iocane serve
syncs each feed on its interval; "iocane feeds sync" does it now.

A feed that fails keeps what it held, and its error is shown by
"iocane feeds list".`,
	}
	var name string
	sync := &cobra.Command{
		Use:     "sync",
		Short:   "Fetch every feed (or --name N) now and update its indicators",
		Example: "  iocane feeds sync\n  iocane feeds sync --name feodo",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			// The store alone: a sync needs no provider built.
			return withStore(c, func(p *pipeline.Pipeline) error {
				if len(p.Settings.Feeds) == 0 {
					return usagef("no feed is configured: add one under feeds: in the config")
				}
				rs, err := p.SyncFeeds(c.Context(), name, slog.New(slog.DiscardHandler))
				for _, r := range rs {
					switch {
					case r.NotModified:
						fmt.Fprintf(c.OutOrStdout(), "%s: not modified (%s)\n", r.Feed, r.Took.Round(time.Millisecond))
					default:
						fmt.Fprintf(c.OutOrStdout(), "%s: %d read, %d added, %d removed (%s)\n", r.Feed, r.Read, r.Added, r.Removed, r.Took.Round(time.Millisecond))
					}
				}
				return err
			})
		},
	}
	sync.Flags().StringVar(&name, "name", "", "sync only this feed")
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "Show each feed: indicators held, last sync, last error, next run",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usagef("--format: want table or json, not %q", format)
			}
			return withStore(c, func(p *pipeline.Pipeline) error {
				type row struct {
					Name      string    `json:"name"`
					Kind      string    `json:"kind"`
					Held      int       `json:"held"`
					LastSync  time.Time `json:"last_sync,omitzero"`
					LastError string    `json:"last_error,omitempty"`
					ErrorAt   time.Time `json:"error_at,omitzero"`
					NextRun   time.Time `json:"next_run"`
				}
				now := time.Now()
				var rows []row
				for _, f := range p.Settings.Feeds {
					st, err := p.Store.FeedState(c.Context(), f.Name, now)
					if err != nil {
						return err
					}
					next := now
					if !st.LastSync.IsZero() {
						next = st.LastSync.Add(f.Interval)
					}
					rows = append(rows, row{Name: f.Name, Kind: f.Kind, Held: st.Held, LastSync: st.LastSync, LastError: st.LastError,
						ErrorAt: st.ErrorAt, NextRun: next.UTC()})
				}
				if format == "json" {
					if rows == nil {
						rows = []row{}
					}
					return printJSON(c.OutOrStdout(), rows)
				}
				if len(rows) == 0 {
					fmt.Fprintln(c.OutOrStdout(), "no feed is configured")
					return nil
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "FEED\tKIND\tHELD\tLAST SYNC\tNEXT RUN\tLAST ERROR")
				for _, r := range rows {
					last := "never"
					if !r.LastSync.IsZero() {
						last = r.LastSync.Format(stamp)
					}
					errText := "-"
					if r.LastError != "" {
						errText = r.ErrorAt.Format(stamp) + " " + clip(r.LastError, 80)
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", r.Name, r.Kind, r.Held, last, r.NextRun.Format(stamp), errText)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&format, "format", "table", "output format: table|json")
	c.AddCommand(sync, list)
	return c
}
