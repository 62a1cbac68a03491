package providertest

import (
	"net/http"
	"net/url"
	"time"

	"github.com/iocane/iocane/internal/provider"
)

// MaxAttempts is the attempt bound the suite configures the client with.
const MaxAttempts = 3

// newClient builds the client a provider under test gets.
// TEMPORARY: a plain client until internal/httpx lands; the 429 cases fail
// until then.
func newClient(spec provider.Spec, sleeps *[]time.Duration) *http.Client {
	return &http.Client{Timeout: 20 * time.Second}
}

func parseForm(b []byte) (url.Values, error) { return url.ParseQuery(string(b)) }
