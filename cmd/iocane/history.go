package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/pipeline"
)

func init() { addCommand(newHistoryCmd) }

func newHistoryCmd() *cobra.Command {
	var format string
	var limit int
	c := &cobra.Command{
		Use:   "history TYPE VALUE",
		Short: "Show what iocane knows of an IOC: past verdicts, sightings, analyst verdict",
		Long: `History prints every enrichment of an IOC that the store keeps (when, the
verdict and score, the sources that answered, and the job and alert it came
from), every analyst decision about it, and its sightings: the alerts it
appeared in, counted per source. Newest first. Nothing is sent anywhere.

The store keeps history for history.retention (default 180 days); the CLI's
runs, the server's jobs and its synchronous enrichments all add to it.`,
		Example: `  iocane history ipv4 185.220.101.47
  iocane history domain evil-payload.xyz --format json
  iocane history url 'http://evil-payload.xyz/stage2.bin' --limit 20`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			i, err := iocArgs(args)
			if err != nil {
				return err
			}
			if format != "text" && format != "json" {
				return usagef("--format: want text or json, not %q", format)
			}
			if limit < 1 || limit > 1000 {
				return usagef("--limit: want 1 to 1000")
			}
			return withStore(c, func(p *pipeline.Pipeline) error {
				rep, err := p.Store.HistoryReport(c.Context(), i, limit, time.Now())
				if err != nil {
					return err
				}
				if format == "json" {
					return printJSON(c.OutOrStdout(), rep)
				}
				return printHistory(c.OutOrStdout(), rep)
			})
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output format: text|json")
	c.Flags().IntVar(&limit, "limit", 100, "at most this many entries and sightings, newest first")
	return c
}

// iocArgs reads TYPE VALUE, normalising the value as the extractor would.
func iocArgs(args []string) (ioc.IOC, error) {
	t := ioc.Type(strings.ToLower(args[0]))
	if !t.Valid() {
		return ioc.IOC{}, usagef("unknown IOC type %q: use ipv4, ipv6, domain, url, email, md5, sha1, sha256, sha512, cve, asn or btc", args[0])
	}
	v, err := ioc.Normalize(t, args[1])
	if err != nil {
		return ioc.IOC{}, usagef("%q is not a valid %s: %v", args[1], t, err)
	}
	return ioc.IOC{Type: t, Value: v}, nil
}

// withStore opens the store only (no provider is built) and runs f on it.
func withStore(c *cobra.Command, f func(p *pipeline.Pipeline) error) error {
	o := options(c.ErrOrStderr())
	o.StoreOnly = true
	p, err := pipeline.Open(c.Context(), o)
	if err != nil {
		return err
	}
	defer p.Close()
	return f(p)
}

const stamp = "2006-01-02 15:04Z"

// printJSON writes v as indented JSON, the --format json of the listing
// commands.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printHistory(w io.Writer, rep history.Report) error {
	fmt.Fprintf(w, "%s %s\n", rep.IOC.Type, rep.IOC.Value)
	if rep.FirstSeen.IsZero() && len(rep.History) == 0 {
		fmt.Fprintln(w, "never enriched (within history.retention)")
	} else if !rep.FirstSeen.IsZero() {
		n := 0
		for _, s := range rep.BySource {
			n += s.Count
		}
		fmt.Fprintf(w, "first seen %s, last seen %s, %d sighting%s\n", rep.FirstSeen.Format(stamp), rep.LastSeen.Format(stamp), n, plural(n))
	}
	if rep.Verdict != nil {
		fmt.Fprintf(w, "analyst verdict in force: %s\n", rep.Verdict.Explain())
	}
	if len(rep.History) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "WHEN\tVERDICT\tSCORE\tORIGIN\tALERT / JOB\tSOURCES / NOTE")
		for _, e := range rep.History {
			ref := cmp.Or(e.Alert, e.Job, "-")
			detail := strings.Join(e.Sources, ", ")
			if e.Note != "" {
				detail = e.Note
			}
			if e.Analyst != "" && e.Origin != history.AnalystSource {
				detail = "analyst verdict (" + e.Analyst + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", e.At.Format(stamp), e.Verdict, e.Score, e.Origin, clip(ref, 48), clip(detail, 80))
		}
		tw.Flush()
	}
	if len(rep.BySource) > 0 {
		fmt.Fprintln(w, "\nSIGHTINGS")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range rep.BySource {
			fmt.Fprintf(tw, "%s\t%d\tfirst %s\tlast %s\n", s.Source, s.Count, s.FirstSeen.Format(stamp), s.LastSeen.Format(stamp))
		}
		tw.Flush()
		for _, s := range rep.Sightings {
			fmt.Fprintf(w, "  %s  %s  %s\n", s.At.Format(stamp), s.Source, clip(s.Alert, 80))
		}
	}
	return nil
}

// clip cuts s to n runes with "…", and replaces control characters, since
// alert references and notes come from outside.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
