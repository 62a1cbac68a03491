package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// RunOptions is one CLI enrichment run.
type RunOptions struct {
	// Values are IOCs given on the command line, already parsed.
	Values []ioc.IOC
	// Files are read after Values; "-" reads Stdin.
	Files []string
	Stdin io.Reader
	// Input says how to read the files.
	Input input.Options
	// TLP is the input's marking; nil takes the config's (TLP:AMBER by
	// default).
	TLP *tlp.Level
	// Ordered writes results in input order instead of as they complete.
	Ordered bool
	// Pivot is how deep to follow relations (--pivot); nil takes the
	// config's pivot.depth, else 0.
	Pivot *int
	// PAP is the input's PAP marking (--pap); default GREEN.
	PAP *tlp.Level
	// Write receives each result.
	Write func(result.Result) error
	// Progress, when set, receives a status line, redrawn four times a
	// second (a terminal's stderr).
	Progress io.Writer
	// SharedTerminal says that Write and Progress reach one terminal: the
	// status line is cleared before each result is written and drawn again
	// after it.
	SharedTerminal bool
	// Width is the terminal's width in columns; the status line is cut to
	// fit it, since a wrapped line could not be cleared. 0: no limit.
	Width int
}

// RunSummary is what a run did.
type RunSummary struct {
	// Results is the number of results written.
	Results int64
	// Skipped maps each provider that was not asked to the reason.
	Skipped map[string]string
	// Warning is a problem that lost no result, such as run statistics
	// that could not be saved.
	Warning error
}

// Run enriches the values and files: intake (exact dedupe) → engine →
// Write, then records the run's statistics in the store. Errors reading
// one file do not stop the others; they are returned, joined, after every
// result was written. A run cut short by ctx returns an error saying how
// many results were written.
func (p *Pipeline) Run(ctx context.Context, o RunOptions) (RunSummary, error) {
	level := p.Settings.Config.TLP
	if o.TLP != nil {
		level = *o.TLP
	}
	started := time.Now()
	items := make(chan enrich.Item, 256)
	feedErr := make(chan error, 1)
	in := &enrich.Intake{TLP: level, Input: o.Input, Pivot: p.Settings.Pivot.DepthFor(0), PAP: tlp.Green}
	if o.Pivot != nil {
		in.Pivot = *o.Pivot
	}
	if o.PAP != nil {
		in.PAP = *o.PAP
	}
	go func() {
		defer close(items)
		feedErr <- in.Feed(ctx, o.Values, o.Files, o.Stdin, items)
	}()
	var prog *progress
	hist := p.newHistorian()
	write := func(r result.Result) error {
		hist.add(r)
		return o.Write(r)
	}
	if o.Progress != nil {
		prog = startProgress(o.Progress, o.Width, p, in)
		if o.SharedTerminal {
			write = func(r result.Result) error {
				hist.add(r)
				return prog.row(func() error { return o.Write(r) })
			}
		}
	}
	runErr := p.Engine.Run(ctx, items, write, enrich.RunOptions{Ordered: o.Ordered})
	prog.stop()
	inErr := <-feedErr

	stats := p.Engine.Stats()
	rec := stats.Run("cli", inputName(o.Files), started, time.Now())
	rec.HTTP = p.HTTP.Stats()
	sum := RunSummary{Results: stats.Done(), Skipped: p.Sources.Skipped}
	if _, err := p.Store.RecordRun(context.WithoutCancel(ctx), rec); err != nil {
		sum.Warning = fmt.Errorf("run statistics not saved: %w", err)
	}
	if err := hist.close(); err != nil {
		sum.Warning = errors.Join(sum.Warning, fmt.Errorf("IOC history not saved: %w", err))
	}
	// A deadline that passes once every IOC read has its result written
	// cut nothing short.
	cut := ctx.Err() != nil && !(in.Complete() && sum.Results == in.Taken())
	switch {
	case runErr != nil && ctx.Err() == nil:
		return sum, fmt.Errorf("writing results: %w", runErr)
	case inErr != nil:
		return sum, inErr
	case cut:
		return sum, fmt.Errorf("interrupted after %d results: %w", sum.Results, context.Cause(ctx))
	}
	return sum, nil
}

// SkippedByReason groups the skipped providers by reason, names sorted, for
// a line such as "skipped (no API key): abuseipdb, greynoise".
func (s RunSummary) SkippedByReason() map[string][]string {
	out := map[string][]string{}
	for name, why := range s.Skipped {
		out[why] = append(out[why], name)
	}
	for _, names := range out {
		slices.Sort(names)
	}
	return out
}

func inputName(files []string) string {
	if len(files) > 0 {
		return strings.Join(files, ",")
	}
	return "args"
}
