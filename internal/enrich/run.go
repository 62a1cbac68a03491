package enrich

import (
	"context"
	"sync"

	"github.com/iocane/iocane/internal/result"
)

// RunOptions shapes a bulk run.
type RunOptions struct {
	// Window is the most IOCs in flight at once, which bounds memory on any
	// input size. Default 1024.
	Window int
	// Ordered writes results in input order; otherwise each is written as it
	// completes.
	Ordered bool
}

// Run enriches every Item from in and calls emit with each Result, from a
// single goroutine. It stops at the first emit error or when ctx ends, and
// returns that error; a provider failing is never a run error.
func (e *Engine) Run(ctx context.Context, in <-chan Item, emit func(result.Result) error, o RunOptions) error {
	if o.Window <= 0 {
		o.Window = 1024
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type done struct {
		seq int
		rs  []result.Result // the item's, then its pivots' (pivot.go)
	}
	var emitted sync.Map // IOCs whose result was returned, across pivots
	results := make(chan done, o.Window)
	slots := make(chan struct{}, o.Window)
	feedDone := make(chan int, 1) // how many items were started

	go func() {
		seq := 0
		defer func() { feedDone <- seq }()
		for {
			select {
			case <-ctx.Done():
				return
			case it, ok := <-in:
				if !ok {
					return
				}
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				go func(seq int, it Item) {
					if it.Pivot > 0 {
						if _, dup := emitted.LoadOrStore(it.IOC, true); dup {
							results <- done{seq, nil} // already a pivot's result
							return
						}
						results <- done{seq, e.enrichTree(ctx, it, &emitted)}
						return
					}
					results <- done{seq, []result.Result{e.Enrich(ctx, it)}}
				}(seq, it)
				seq++
			}
		}
	}()

	var (
		next     int
		pending  = map[int][]result.Result{}
		received int
		total    = -1
		err      error
	)
	for total < 0 || received < total {
		select {
		case n := <-feedDone:
			total = n
			continue
		case d := <-results:
			<-slots
			received++
			if err != nil {
				continue // draining after a failed emit
			}
			if !o.Ordered {
				err = emitAll(emit, d.rs)
				break
			}
			pending[d.seq] = d.rs
			for err == nil {
				rs, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				err = emitAll(emit, rs)
				next++
			}
		}
		if err != nil {
			cancel()
		}
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

func emitAll(emit func(result.Result) error, rs []result.Result) error {
	for _, r := range rs {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}
