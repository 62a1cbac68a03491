package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/store"
)

func init() { addCommand(newVerdictCmd) }

func newVerdictCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "verdict",
		Short: "Set, remove or list analyst verdicts (a false positive that sticks)",
		Long: `An analyst verdict settles an IOC before any quota is spent: the next
enrichments return it as the top-precedence local source "analyst", with the
reason "analyst (NAME): benign until 2027-01-01: our CDN", and ask no external
provider, until it expires. Each change is kept in the IOC's history.

The server takes the same with POST/DELETE /v1/iocs/{type}/{value}/verdict
(scope triage). From the CLI the name recorded is --by, by default
cli:$USER.`,
	}
	var reason, expires, by string
	set := &cobra.Command{
		Use:   "set TYPE VALUE benign|suspicious|malicious --reason TEXT [--expires WHEN]",
		Short: "Set an analyst verdict on an IOC, replacing any other",
		Example: `  iocane verdict set domain cdn.example.net benign --reason "our CDN" --expires 2027-01-01
  iocane verdict set ipv4 185.220.101.47 malicious --reason "C2 confirmed in case 4711" --expires 30d`,
		Args: cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			i, err := iocArgs(args[:2])
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			v, why, exp, err := history.ParseVerdict(args[2], reason, expires, now)
			if err != nil {
				return usageError{err}
			}
			av := history.Verdict{IOC: i, Verdict: v, Reason: why, By: analystName(by), SetAt: now, Expires: exp}
			return withStore(c, func(p *pipeline.Pipeline) error {
				if err := p.Store.SetVerdict(c.Context(), av); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "%s %s: %s\n", i.Type, i.Value, av.Explain())
				return nil
			})
		},
	}
	set.Flags().StringVar(&reason, "reason", "", "why (required): it is printed in every result for this IOC")
	set.Flags().StringVar(&expires, "expires", "", "when it stops applying: RFC 3339, a date (2027-01-01) or a duration (72h, 30d, 2w); default never")
	set.Flags().StringVar(&by, "by", "", "the analyst's name to record (default cli:$USER)")
	rm := &cobra.Command{
		Use:     "rm TYPE VALUE",
		Short:   "Remove an IOC's analyst verdict",
		Example: `  iocane verdict rm domain cdn.example.net`,
		Args:    cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			i, err := iocArgs(args)
			if err != nil {
				return err
			}
			return withStore(c, func(p *pipeline.Pipeline) error {
				err := p.Store.RemoveVerdict(c.Context(), i, analystName(by), time.Now().UTC())
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no analyst verdict on %s %s", i.Type, i.Value)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "removed the analyst verdict on %s %s\n", i.Type, i.Value)
				return nil
			})
		},
	}
	rm.Flags().StringVar(&by, "by", "", "the analyst's name to record (default cli:$USER)")
	var all bool
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List analyst verdicts in force, newest first",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usagef("--format: want table or json, not %q", format)
			}
			return withStore(c, func(p *pipeline.Pipeline) error {
				now := time.Now()
				vs, err := p.Store.Verdicts(c.Context(), all, now)
				if err != nil {
					return err
				}
				if format == "json" {
					return printJSON(c.OutOrStdout(), vs)
				}
				if len(vs) == 0 {
					fmt.Fprintln(c.OutOrStdout(), "no analyst verdicts")
					return nil
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TYPE\tVALUE\tVERDICT\tBY\tSET\tEXPIRES\tREASON")
				for _, v := range vs {
					exp := "never"
					if !v.Expires.IsZero() {
						exp = v.Expires.Format(stamp)
						if !v.Active(now) {
							exp += " (expired)"
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.IOC.Type, clip(v.IOC.Value, 64), v.Verdict, clip(v.By, 32),
						v.SetAt.Format(stamp), exp, clip(v.Reason, 80))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&all, "all", false, "list expired verdicts too")
	list.Flags().StringVar(&format, "format", "table", "output format: table|json")
	c.AddCommand(set, rm, list)
	return c
}

// analystName is --by, or cli:$USER.
func analystName(by string) string {
	if by != "" {
		return by
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}
