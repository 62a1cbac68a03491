package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
)

func init() { addCommand(newProvidersCmd) }

func newProvidersCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "providers",
		Short: "List providers: IOC types, configured or not, rate, quota used and left, max TLP",
		Long: `Providers lists every threat-intelligence source iocane knows: the IOC types
it handles, whether it is configured (and why not), its request rate, its
quota with what is used and left today and this month (from the store, so
it counts every run), and the most restricted TLP it may receive.

Configure a provider with its IOCANE_<NAME>_API_KEY environment variable or
the providers section of iocane.yaml.`,
		Example: `  iocane providers
  iocane providers --format json | jq '.[] | select(.configured)'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usagef("unknown --format %q (want table or json)", format)
			}
			p, err := pipeline.Open(c.Context(), options(c.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer p.Close()
			rows, err := p.Providers(c.Context())
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if format == "json" {
				return printJSON(out, rows)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PROVIDER\tTYPES\tCONFIGURED\tRATE\tQUOTA USED/LIMIT (LEFT)\tDEFERRED\tMAX TLP")
			for _, r := range rows {
				conf := "yes"
				if !r.Configured {
					conf = "no: " + r.Reason
				}
				if r.Local && r.Configured {
					conf = "yes (local)"
				}
				rate := r.Rate
				if rate == "" {
					rate = "-"
				}
				backlog := "-"
				if r.Deferred > 0 {
					backlog = strconv.Itoa(r.Deferred)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Types, ","), conf, rate, quotaText(r.Quota), backlog, strings.ToUpper(r.MaxTLP))
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&format, "format", "table", "output format: table|json")
	return c
}

// resetText is a window's reset time, RFC 3339 in the JSON, shortened.
func resetText(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func quotaText(ws []provider.QuotaWindow) string {
	if len(ws) == 0 {
		return "-"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%d/%d per %s (%d left, resets %s)", w.Used, w.Limit, w.Period, w.Remaining, resetText(w.ResetsAt))
	}
	return strings.Join(parts, ", ")
}
