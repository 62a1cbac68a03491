package httpx

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// NewClient returns the client a provider makes every request with. Its
// transport is one chain of RoundTrippers, outermost first:
//
//  1. retry: up to MaxAttempts attempts within MaxElapsed; a 429 waits out
//     Retry-After (seconds or HTTP-date) up to MaxRetryAfter, a 5xx, a
//     timeout or a reset backs off exponentially with jitter. When the next
//     wait is too long the last answer goes back as is, so a provider maps
//     a final 429 to rate_limited. POST is retried only with RetryPOST.
//  2. circuit breaker: open after BreakerFailures consecutive failures;
//     while open, ErrCircuitOpen without sending.
//  3. rate limit: Limiter.Wait before every attempt, retries included.
//  4. quota: Quota.Take just before every attempt is sent; a spent quota
//     gives ErrQuotaExceeded without sending.
//  5. per-attempt Timeout and the MaxBody cap on the response body
//     (ErrBodyTooLarge).
//  6. the base transport (dial, TLS and header timeouts).
//
// The breaker sits outside the limiter so that an open breaker answers at
// once instead of after a wait for a turn it would not use.
//
// The chain's own errors never carry the request URL or headers. (The
// http.Client wraps transport errors in *url.Error with the URL; callers
// scrub that, see provider.Do.) Redirects are followed only to the same
// host and never from https to http, since providers' keys travel in
// custom headers that Go would forward.
func NewClient(o Options) *http.Client {
	o = o.withDefaults()
	br := o.Breaker
	if br == nil {
		var onChange func(from, to string)
		if bo, ok := o.Observer.(BreakerObserver); ok {
			name := o.Name
			onChange = func(from, to string) { bo.BreakerState(name, from, to) }
		}
		br = NewBreaker(o.Name, o.BreakerFailures, o.BreakerCoolDown, onChange)
	}
	var rt http.RoundTripper = &sendTransport{
		name: o.Name, timeout: o.Timeout, maxBody: o.MaxBody, obs: o.Observer, now: o.Now, next: o.Base,
	}
	if o.Quota != nil {
		rt = &quotaTransport{name: o.Name, quota: o.Quota, obs: o.Observer, next: rt}
	}
	if o.Limiter != nil {
		rt = &limitTransport{name: o.Name, lim: o.Limiter, next: rt}
	}
	rt = &breakerTransport{name: o.Name, breaker: br, next: rt}
	rt = &retryTransport{o: o, breaker: br, next: rt}
	return &http.Client{Transport: rt, CheckRedirect: checkRedirect}
}

var errRedirect = errors.New("httpx: redirect to another host or from https to http refused")

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= DefaultMaxRedirects {
		return errors.New("httpx: too many redirects")
	}
	first := via[0].URL
	if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
		return errRedirect
	}
	return nil
}

var defaultBase = NewBaseTransport()

// NewBaseTransport returns the transport that sends: proxies from the
// environment, 10 s to connect, 10 s for the TLS handshake (TLS 1.2 or
// later, certificates always verified), 20 s to the response headers,
// HTTP/2 when offered. NewClient shares one unless Options.Base is set.
func NewBaseTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: DefaultTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   8,
	}
}
