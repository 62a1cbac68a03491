package mailbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// flakyBackend fails its first open, then serves an empty folder.
type flakyBackend struct {
	mu    sync.Mutex
	opens int
}

func (b *flakyBackend) open(context.Context) (session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opens++
	if b.opens == 1 {
		return nil, errors.New("connection refused")
	}
	return emptySession{}, nil
}

type emptySession struct{}

func (emptySession) list(context.Context, int) ([]message, error)          { return nil, nil }
func (emptySession) fetch(context.Context, message, int64) ([]byte, error) { return nil, nil }
func (emptySession) move(context.Context, message, string) error           { return nil }
func (emptySession) close() error                                          { return nil }

// TestRunKeepsPolling: a failed poll does not stop Run; it polls every
// Interval until the context ends.
func TestRunKeepsPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		be := &flakyBackend{}
		p := &Poller{cfg: Config{Name: "x", Interval: time.Minute, MaxMessages: 1}, q: &fakeQueue{}, be: be,
			log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute+time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		<-done
		if be.opens != 4 { // at 0, 1, 2 and 3 minutes
			t.Errorf("%d polls, want 4", be.opens)
		}
	})
}
