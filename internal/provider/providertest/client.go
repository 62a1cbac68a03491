package providertest

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/httpx"
	"github.com/iocane/iocane/internal/provider"
)

// MaxAttempts is the attempt bound the suite configures the client with.
const MaxAttempts = 3

// maxBody is the response cap the suite configures; the Oversized fault
// sends four times as much.
const maxBody = 1 << 20

// newClient builds the client a provider under test gets: the real shared
// transport chain, with waits recorded instead of slept so that the suite
// can check Retry-After without sleeping.
func newClient(spec provider.Spec, sleeps *[]time.Duration) *http.Client {
	var mu sync.Mutex
	return httpx.NewClient(httpx.Options{
		Name:            spec.Name,
		MaxAttempts:     MaxAttempts,
		MaxBody:         maxBody,
		Timeout:         5 * time.Second,
		RetryPOST:       true,
		BreakerFailures: 1000,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			*sleeps = append(*sleeps, d)
			mu.Unlock()
			return ctx.Err()
		},
	})
}

func parseForm(b []byte) (url.Values, error) { return url.ParseQuery(string(b)) }
