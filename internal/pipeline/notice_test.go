package pipeline

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
)

// TestLowQuotaNotice: as serve wires it, a VirusTotal quota of 10 a day
// that falls under 10 % left sends exactly one notice to the notification
// channel, naming the provider, what is left and when it resets.
func TestLowQuotaNotice(t *testing.T) {
	var mu sync.Mutex
	var got []notify.WebhookNotice
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var n notify.WebhookNotice
		json.Unmarshal(b, &n)
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	rt := newRuntime(t, f, filepath.Join(t.TempDir(), "iocane.db"), enrich.Options{}, "IOCANE_VIRUSTOTAL_QUOTA=10/d")
	set, err := notify.New(notify.Config{DigestSize: notify.DefaultDigestSize, MaxIOCs: notify.DefaultMaxIOCs, DedupeSize: 10, DedupeTTL: time.Hour,
		Webhook: &notify.WebhookChannel{URL: provider.NewSecret(hook.URL), Rate: ratelimit.Rate{N: 10, Per: time.Minute}}}, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt.p.noticeLowQuota(set, slog.New(slog.DiscardHandler))
	q := rt.built.Quotas["virustotal"]
	for range 12 {
		q.Take(context.Background()) // the last two are refused: spent
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a second notice would have come by now
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d notices, want 1: %+v", len(got), got)
	}
	n := got[0]
	if n.Type != "iocane.notice" || n.Provider != "virustotal" || n.Remaining != 0 || n.Limit != 10 || n.Period != "daily" || n.ResetsAt.IsZero() {
		t.Errorf("notice %+v", n)
	}
}
