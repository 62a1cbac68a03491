package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output"
	_ "github.com/iocane/iocane/internal/output/all" // every output format registers itself
	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

func init() { addCommand(newEnrichCmd) }

type enrichFlags struct {
	files       []string
	format      string
	inputFormat string
	column      string
	tlp         string
	providers   []string
	noCache     bool
	noHistory   bool
	tiering     string
	pivot       int
	pap         string
	offline     bool
	ordered     bool
	timeout     time.Duration
	runTimeout  time.Duration
	progress    string
}

func newEnrichCmd() *cobra.Command {
	var f enrichFlags
	c := &cobra.Command{
		Use:   "enrich [VALUE...] | -f FILE",
		Short: "Enrich IOCs with threat intelligence and score them",
		Long: `Enrich looks up each IOC at every configured provider that handles its type,
in parallel and within each provider's rate limit and quota, and combines the
answers into one verdict (malicious, suspicious, benign, unknown) with a score,
a confidence and the reasons behind it.

Input is IOC values on the command line, or -f FILE in any format iocane
reads: plain text, a SIEM alert (JSON), an e-mail (.eml), a STIX 2.1 bundle, a
MISP event or CSV (-f - reads standard input). IOCs are refanged, normalised
and deduplicated.

Providers without an API key are skipped and say so. Internal and reserved
addresses are looked up in local sources only. Input marked TLP:RED goes to no
external provider. Answers are cached in the store (--db), so a second run
spends no quota.`,
		Example: `  iocane enrich 185.220.101.47 'hxxps://evil-login[.]com/verify'
  iocane enrich -f examples/phishing.eml
  iocane enrich -f alerts.json --format json --tlp green
  iocane enrich -f feed.csv --column indicator --format stix > bundle.json
  iocane enrich --offline -f iocs.txt         # local sources only, no network`,
		RunE: func(c *cobra.Command, args []string) error { return runEnrich(c, args, f) },
	}
	fl := c.Flags()
	fl.StringArrayVarP(&f.files, "file", "f", nil, "read IOCs from `FILE` (any input format; - for standard input); repeatable")
	fl.StringVar(&f.format, "format", "", "output format: table|json|jsonl|csv|stix|misp|cortex|dbot (default table on a terminal, jsonl otherwise)")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "input format: auto|text|json|eml|stix|misp|csv")
	fl.StringVar(&f.column, "column", "", "CSV column holding the IOCs (name or 1-based index; default: detected)")
	fl.StringVar(&f.tlp, "tlp", "", "TLP marking of the input: clear|green|amber|amber+strict|red (default from config: amber)")
	fl.StringSliceVar(&f.providers, "providers", nil, "ask only these external providers (comma-separated names)")
	fl.BoolVar(&f.noCache, "no-cache", false, "ask providers again even when a cached answer is fresh")
	fl.StringVar(&f.tiering, "tiering", "", "on: ask free sources first and scarce ones (VirusTotal, Shodan, urlscan, Defender TI, AbuseIPDB) only while the verdict is not settled; off: ask every routed provider (default: the config's tiering, off)")
	fl.IntVar(&f.pivot, "pivot", -1, "follow relations this deep (0-2): a domain's A/AAAA records (DNS only, never HTTP), a URL's host, an e-mail's domain, relations in provider answers; each related IOC is a result of its own (default: the config's pivot.depth, else 0)")
	fl.StringVar(&f.pap, "pap", "green", "the input's PAP: clear or green allow DNS pivots; amber and red forbid any action the adversary could see")
	fl.BoolVar(&f.noHistory, "no-history", false, "neither read nor keep IOC history (bulk runs: about 2.5x faster offline); analyst verdicts still apply")
	fl.BoolVar(&f.offline, "offline", false, "local sources only (allow/block-lists, GeoIP); nothing leaves the machine")
	fl.BoolVar(&f.ordered, "ordered", false, "write results in input order (default: as each completes)")
	fl.DurationVar(&f.timeout, "timeout", 0, "deadline for each provider's answer about an IOC, e.g. 30s; waiting for a rate-limit turn or a Retry-After does not count (--run-timeout bounds that); a provider that takes longer gets status error \"deadline\" (default none)")
	fl.DurationVar(&f.runTimeout, "run-timeout", 0, "deadline for the whole run (default none)")
	fl.StringVar(&f.progress, "progress", "auto", "progress on stderr: auto (on a terminal, for -f)|always|never")
	return c
}

func runEnrich(c *cobra.Command, args []string, f enrichFlags) error {
	if len(args) == 0 && len(f.files) == 0 {
		return usagef("nothing to enrich: give IOC values or -f FILE (see 'iocane enrich --help')")
	}
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	format := f.format
	if format == "" {
		format = "jsonl"
		if isTerminal(stdout) {
			format = "table"
		}
	}
	if !slices.Contains(output.Formats(), format) {
		return usagef("unknown --format %q (want one of %s)", format, strings.Join(output.Formats(), ", "))
	}
	if !slices.Contains([]string{"auto", "always", "never"}, f.progress) {
		return usagef("--progress %q: want auto, always or never", f.progress)
	}
	inFormat, err := input.ParseFormat(f.inputFormat)
	if err != nil {
		return usageError{err}
	}
	var level *tlp.Level
	if f.tlp != "" {
		l, err := tlp.MustParse(f.tlp)
		if err != nil {
			return usagef("--tlp %q: want clear, green, amber, amber+strict or red", f.tlp)
		}
		level = &l
	}
	for _, p := range f.providers {
		if _, ok := provider.Get(p); !ok {
			return usagef("--providers: unknown provider %q", p)
		}
	}
	var values []ioc.IOC
	for _, a := range args {
		i, err := ioc.Parse(a)
		if err != nil {
			return usagef("%q is not an IOC iocane knows (%v)", a, err)
		}
		values = append(values, i)
	}

	pap, err := enrich.ParsePAP(f.pap)
	if err != nil {
		return usagef("--pap: %v", err)
	}
	if f.pivot > enrich.MaxPivot || f.pivot < -1 {
		return usagef("--pivot: want 0 to %d", enrich.MaxPivot)
	}

	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.runTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.runTimeout)
		defer cancel()
	}
	o := options(stderr)
	o.Engine = enrich.Options{NoCache: f.noCache, Offline: f.offline, Only: f.providers, IOCTimeout: f.timeout}
	o.NoHistory = f.noHistory
	if f.tiering != "" {
		on, err := enrich.ParseOnOff(f.tiering)
		if err != nil {
			return usagef("--tiering: %v", err)
		}
		o.Tiering = &on
	}
	p, err := pipeline.Open(ctx, o)
	if err != nil {
		return err
	}
	defer p.Close()
	marking := p.Settings.Config.TLP
	if level != nil {
		marking = *level
	}
	onTerminal := isTerminal(stdout)
	w, err := output.New(format, stdout, output.Options{Color: format == "table" && onTerminal, TLP: marking, Width: terminalWidth(stdout)})
	if err != nil {
		return usageError{err}
	}
	ro := pipeline.RunOptions{PAP: &pap,
		Values: values, Files: f.files, Stdin: c.InOrStdin(), Input: input.Options{Format: inFormat, Column: f.column},
		TLP: level, Ordered: f.ordered, Write: w.Write,
	}
	if f.pivot >= 0 {
		ro.Pivot = &f.pivot
	}
	if f.progress == "always" || (f.progress == "auto" && len(f.files) > 0 && isTerminal(stderr)) {
		ro.Progress, ro.SharedTerminal, ro.Width = stderr, onTerminal, terminalWidth(stderr)
	}
	sum, runErr := p.Run(ctx, ro)
	closeErr := w.Close()
	if format != "table" { // the table's footer names them
		byReason := sum.SkippedByReason()
		for _, why := range slices.Sorted(maps.Keys(byReason)) {
			fmt.Fprintf(stderr, "iocane: skipped (%s): %s\n", why, strings.Join(byReason[why], ", "))
		}
	}
	if sum.Warning != nil {
		fmt.Fprintln(stderr, "iocane: warning:", sum.Warning)
	}
	if closeErr != nil && runErr == nil {
		return fmt.Errorf("writing results: %w", closeErr)
	}
	return runErr
}
