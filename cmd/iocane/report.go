package main

import (
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/report"
)

func init() { addCommand(newReportCmd) }

type reportFlags struct {
	since  string
	until  string
	format string
	out    string
}

func newReportCmd() *cobra.Command {
	var f reportFlags
	c := &cobra.Command{
		Use:   "report",
		Short: "Weekly pipeline report: volume, verdicts, provider cost, cache savings, alert turnaround",
		Long: `Report summarises what iocane did over a window (the last 7 days by
default) from the run statistics in the store (--db): CLI runs and server
jobs alike. It shows the IOCs processed by type and input source, the
verdict distribution, per provider the calls, status mix, 429s, retries,
p50/p95 latency and quota used against quota available, the cache hit
ratio and the quota it saved, the time from alert received to alert
updated, write-back and notification outcomes, and the change against the
previous window of the same length.

Formats: md (Markdown, the default), json (every figure, for machines)
and html (one self-contained file with inline SVG charts, no script and
no external resource, readable when e-mailed). With --out FILE the
format follows the file's extension unless --format is given.`,
		Example: `  iocane report                                  # last 7 days, Markdown
  iocane report --since 30d --format json
  iocane report --format html --out report.html  # open it, or mail it
  iocane report --until 2026-11-30T08:00:00Z     # a fixed window`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runReport(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.since, "since", "7d", "window `length`: 7d, 2w, 36h, ...")
	fl.StringVar(&f.until, "until", "", "window end, RFC 3339 or YYYY-MM-DD (default now)")
	fl.StringVar(&f.format, "format", "", "md|json|html (default from --out's extension, else md)")
	fl.StringVarP(&f.out, "out", "o", "", "write to `FILE` instead of standard output")
	return c
}

func runReport(c *cobra.Command, f reportFlags) error {
	since, err := report.ParseSince(f.since)
	if err != nil {
		return usagef("--since: %v", err)
	}
	until := time.Now()
	if f.until != "" {
		if until, err = report.ParseUntil(f.until); err != nil {
			return usagef("--until: %v", err)
		}
	}
	format := f.format
	if format == "" {
		format = "md"
		if ext := strings.TrimPrefix(filepath.Ext(f.out), "."); slices.Contains(report.Formats, ext) {
			format = ext
		} else if ext == "htm" || ext == "markdown" {
			format = map[string]string{"htm": "html", "markdown": "md"}[ext]
		}
	}
	if !slices.Contains(report.Formats, format) {
		return usagef("unknown --format %q (want one of %s)", format, strings.Join(report.Formats, ", "))
	}
	return withStore(c, func(p *pipeline.Pipeline) error {
		r, err := p.Report(c.Context(), until, since)
		if err != nil {
			return err
		}
		if f.out == "" {
			return report.Write(c.OutOrStdout(), format, r)
		}
		return report.WriteFile(f.out, format, r)
	})
}
