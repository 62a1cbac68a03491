package enrich

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"sync/atomic"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// Intake turns what arrives (IOC values, files, request and job bodies)
// into engine Items. It is the one way in for the CLI, the job worker and
// the server, so all three deduplicate alike: exactly, by type and value
// (ioc.Set, never by hash alone, so no IOC is dropped by a collision), and
// each item keeps its marking and where it was found, "raw" included.
//
// An Intake is for one run or one job, and for one goroutine; Taken and
// Complete may be read from any goroutine (a progress line).
type Intake struct {
	// TLP is the marking of untagged input; an item's own marking wins
	// when it is stricter.
	TLP tlp.Level
	// Providers, when not empty, restricts every item's external providers
	// (a job's providers list).
	Providers []string
	// Input says how to read files and bodies.
	Input input.Options
	// Pivot and PAP are every item's pivot depth and PAP marking
	// (pivot.go).
	Pivot int
	PAP   tlp.Level

	seen     ioc.Set
	taken    atomic.Int64
	complete atomic.Bool
}

// Value takes one IOC given as a value (the command line, a JSON list of
// IOCs) and emits it unless it was taken before.
func (in *Intake) Value(i ioc.IOC, emit func(Item) error) error {
	return in.take(Item{IOC: i, TLP: in.TLP}, emit)
}

// Read takes every IOC in r, read as in.Input says; name is used in error
// messages. It emits each IOC it has not taken before, and returns the
// first error of emit, or the input's error after the IOCs found before it.
func (in *Intake) Read(ctx context.Context, r io.Reader, name string, emit func(Item) error) error {
	return input.Read(ctx, r, name, in.Input, func(it input.Item) error {
		return in.take(itemFrom(it, in.TLP), emit)
	})
}

// Feed takes values, then each of files ("-" reads stdin), and sends every
// new IOC to items. One bad file does not stop the others: Feed returns
// their errors, joined, after feeding everything it could read. It returns
// nil when ctx ends, and marks the intake Complete when all was read.
func (in *Intake) Feed(ctx context.Context, values []ioc.IOC, files []string, stdin io.Reader, items chan<- Item) error {
	send := func(it Item) error {
		select {
		case items <- it:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, v := range values {
		if err := in.Value(v, send); err != nil {
			return nil
		}
	}
	var errs []error
	for _, name := range files {
		if err := in.readFile(ctx, name, stdin, send); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			errs = append(errs, err)
		}
	}
	in.complete.Store(true)
	return errors.Join(errs...)
}

func (in *Intake) readFile(ctx context.Context, name string, stdin io.Reader, emit func(Item) error) error {
	if name == "-" {
		return in.Read(ctx, stdin, "-", emit)
	}
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, errors.Unwrap(err))
	}
	defer fh.Close()
	return in.Read(ctx, fh, name, emit)
}

// Taken returns how many distinct IOCs have been emitted so far.
func (in *Intake) Taken() int64 { return in.taken.Load() }

// Complete reports whether Feed has read all of its input, when Taken is
// the total.
func (in *Intake) Complete() bool { return in.complete.Load() }

func (in *Intake) take(it Item, emit func(Item) error) error {
	if !in.seen.Add(it.IOC) {
		return nil
	}
	in.taken.Add(1)
	it.Providers, it.Pivot, it.PAP = in.Providers, in.Pivot, in.PAP
	return emit(it)
}

// itemFrom turns an IOC read from an input into an Item. Its marking is
// level (the run's or job's), or the input's own marking for the IOC when
// that is stricter; an unknown marking counts as RED. Where the IOC was
// found and its defanged original join its context as "path" and "raw".
func itemFrom(in input.Item, level tlp.Level) Item {
	if in.TLP != "" {
		if own, _ := tlp.Parse(in.TLP); own > level {
			level = own
		}
	}
	c := in.Context
	if in.Path != "" || in.Raw != "" {
		c = make(map[string]string, len(in.Context)+2)
		maps.Copy(c, in.Context)
		if in.Path != "" {
			c["path"] = in.Path
		}
		if in.Raw != "" {
			c["raw"] = in.Raw
		}
	}
	return Item{IOC: in.IOC, TLP: level, Context: c}
}
