package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/config"
	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/provider"
)

func init() { addCommand(newProvidersCmd) }

// providerRow is one line of `iocane providers`.
type providerRow struct {
	Name        string        `json:"name"`
	Types       []string      `json:"types"`
	Local       bool          `json:"local"`
	Configured  bool          `json:"configured"`
	Reason      string        `json:"reason,omitempty"`
	Rate        string        `json:"rate"`
	Quota       []quotaWindow `json:"quota"`
	MaxTLP      string        `json:"max_tlp"`
	Discloses   bool          `json:"discloses"`
	Reliability string        `json:"reliability"`
	BaseURL     string        `json:"base_url,omitempty"`
}

type quotaWindow struct {
	Period    string `json:"period"`
	Limit     int64  `json:"limit"`
	Used      int64  `json:"used"`
	Remaining int64  `json:"remaining"`
	ResetsAt  string `json:"resets_at"`
}

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
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			db, err := openStore(c.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			built, err := enrich.BuildSources(cfg, enrich.BuildOptions{Quotas: db.Quotas()})
			if err != nil {
				return usageError{err}
			}
			rows, err := providerRows(c.Context(), cfg, built)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PROVIDER\tTYPES\tCONFIGURED\tRATE\tQUOTA USED/LIMIT (LEFT)\tMAX TLP")
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
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Types, ","), conf, rate, quotaText(r.Quota), strings.ToUpper(r.MaxTLP))
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&format, "format", "table", "output format: table|json")
	return c
}

func quotaText(ws []quotaWindow) string {
	if len(ws) == 0 {
		return "-"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%d/%d per %s (%d)", w.Used, w.Limit, w.Period, w.Remaining)
	}
	return strings.Join(parts, ", ")
}

// providerRows builds the rows of `iocane providers`, also served by
// GET /v1/providers.
func providerRows(ctx context.Context, cfg *config.Config, built *enrich.Built) ([]providerRow, error) {
	var rows []providerRow
	for _, spec := range provider.All() {
		pc := cfg.Providers[spec.Name]
		row := providerRow{Name: spec.Name, Local: spec.Local, Rate: pc.Rate, MaxTLP: pc.MaxTLP.String(),
			Discloses: spec.Discloses, Reliability: string(spec.Reliability), BaseURL: pc.BaseURL}
		for _, t := range spec.Types {
			row.Types = append(row.Types, string(t))
		}
		row.Reason, row.Configured = built.Skipped[spec.Name], built.Skipped[spec.Name] == ""
		if q := built.Quotas[spec.Name]; q != nil {
			usage, err := q.Usage(ctx)
			if err != nil {
				return nil, err
			}
			for _, u := range usage {
				row.Quota = append(row.Quota, quotaWindow{Period: u.Period.String(), Limit: u.Limit, Used: u.Used,
					Remaining: u.Remaining, ResetsAt: u.ResetsAt.UTC().Format("2006-01-02T15:04:05Z")})
			}
		}
		if row.Quota == nil {
			row.Quota = []quotaWindow{}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
