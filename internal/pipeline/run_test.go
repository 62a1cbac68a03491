package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// TestRunDeadlineAfterTheLastResult: a run deadline that passes once every
// IOC read has its result written cut nothing short, so Run succeeds (the
// CLI exits 0; it printed all 586 lines and exited 1 with "writing
// results: context deadline exceeded"). A deadline that passes earlier is
// an error that says how many results were written.
func TestRunDeadlineAfterTheLastResult(t *testing.T) {
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	defer f.Close()
	rt := newRuntime(t, f, filepath.Join(t.TempDir(), "iocane.db"), enrich.Options{})
	var values []ioc.IOC
	for n := range 20 {
		values = append(values, ioc.IOC{Type: ioc.IPv4, Value: fmt.Sprintf("45.33.1.%d", n+1)})
	}
	for _, cutAt := range []int{20, 5} {
		ctx, cancel := context.WithCancelCause(context.Background())
		written := 0
		sum, err := rt.p.Run(ctx, RunOptions{Values: values, Write: func(result.Result) error {
			written++
			if written == cutAt {
				cancel(context.DeadlineExceeded) // the run deadline passes now
			}
			return ctx.Err()
		}})
		cancel(nil)
		switch {
		case cutAt == len(values) && (err != nil || sum.Results != int64(len(values))):
			t.Errorf("deadline after the last result: %d results, error %v; want %d and none", sum.Results, err, len(values))
		case cutAt < len(values) && (err == nil || !strings.Contains(err.Error(), "interrupted after")):
			t.Errorf("deadline after %d of %d results: error %v, want interrupted after", cutAt, len(values), err)
		}
	}
}
