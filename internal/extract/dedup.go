package extract

import (
	"fmt"
	"io"
	"slices"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
)

// dedupWriter prints each IOC of the run once, in the order first found.
// It takes the items a batch at a time and deduplicates each batch at once
// (ioc.Set.AddAll): on the hundreds of thousands of values of a large input
// that takes about half the time of one look-up after another.
type dedupWriter struct {
	w     *writer
	want  map[ioc.Type]bool // nil: every type
	max   int               // most distinct values remembered; 0: no limit
	warn  io.Writer         // where the warning goes once max is reached
	full  bool              // a value was not remembered, and the warning given
	seen  ioc.Set
	kept  []input.Item // the batch's items of the wanted types
	iocs  []ioc.IOC
	isNew []bool
}

// add prints the new items of a batch; its error is a *WriteError.
func (d *dedupWriter) add(items []input.Item) error {
	if d.want != nil {
		d.kept = d.kept[:0]
		for _, it := range items {
			if d.want[it.Type] {
				d.kept = append(d.kept, it)
			}
		}
		items = d.kept
		defer clear(d.kept) // drop the strings held
	}
	d.iocs = d.iocs[:0]
	for k := range items {
		d.iocs = append(d.iocs, items[k].IOC)
	}
	d.isNew = slices.Grow(d.isNew[:0], len(items))[:len(items)]
	if d.max == 0 || d.seen.Len()+len(items) <= d.max {
		d.seen.AddAll(d.iocs, d.isNew)
	} else {
		// Reaching the limit: what was seen is still recognised, the
		// rest is printed each time it comes, and memory stops growing.
		for k, i := range d.iocs {
			if d.seen.Len() < d.max {
				d.isNew[k] = d.seen.Add(i)
				continue
			}
			d.isNew[k] = !d.seen.Has(i)
			if d.isNew[k] && !d.full {
				d.full = true
				fmt.Fprintf(d.warn, "iocane: warning: %d distinct IOCs seen: later ones are no longer remembered and may be printed more than once (--max-distinct)\n", d.seen.Len())
			}
		}
	}
	for k := range items {
		if !d.isNew[k] {
			continue
		}
		it := &items[k]
		rec := Record{Type: it.Type, Value: it.Value, Source: it.Source, Path: it.Path, TLP: it.TLP, Context: it.Context}
		if it.Raw != it.Value {
			rec.Raw = it.Raw
		}
		rec.Internal, rec.InternalReason = ioc.Internal(it.IOC)
		if err := d.w.write(&rec); err != nil {
			return &WriteError{err}
		}
	}
	clear(d.iocs)
	return nil
}
