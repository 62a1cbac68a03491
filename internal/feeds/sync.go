package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/iocane/iocane/internal/feeds/taxii"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// Store is the local intel store (*store.DB satisfies it).
type Store interface {
	SyncFeed(ctx context.Context, feed string, inds []store.FeedIndicator, removed []ioc.IOC, replace bool, st store.FeedState, now time.Time) ([]ioc.IOC, int, error)
	TouchFeed(ctx context.Context, feed string, ttl time.Duration, now time.Time) error
	FeedFailed(ctx context.Context, feed string, why string, now time.Time) error
	FeedSync(ctx context.Context, feed string) (store.FeedState, error)
}

// Syncer fetches feeds into the store.
type Syncer struct {
	Store Store
	// HTTP fetches the feeds; nil is a client with a 2-minute timeout.
	// TLS is always verified.
	HTTP   *http.Client
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Result is what one sync did.
type Result struct {
	Feed           string
	NotModified    bool // the server answered 304: nothing changed
	Read           int  // indicators read from the feed
	Added, Removed int
	Took           time.Duration
	// New are the indicators this sync added (Added of them), for a feed
	// whose new indicators are enriched (enrich: true).
	New []ioc.IOC
}

// Sync fetches f and updates its indicators. On any failure the feed keeps
// what it held, and the error is recorded (and returned).
func (s *Syncer) Sync(ctx context.Context, f Feed) (Result, error) {
	now := s.now()
	res := Result{Feed: f.Name}
	st, err := s.Store.FeedSync(ctx, f.Name)
	if err != nil {
		return res, err
	}
	switch f.Kind {
	case KindTAXII:
		err = s.syncTAXII(ctx, f, st, now, &res)
	case KindMISP:
		err = s.syncMISP(ctx, f, st, now, &res)
	default:
		err = s.syncList(ctx, f, st, now, &res)
	}
	res.Took = s.now().Sub(now)
	res.Added = len(res.New)
	if err != nil {
		why := provider.Scrub(err, f.APIKey, f.Password).Error()
		if ferr := s.Store.FeedFailed(context.WithoutCancel(ctx), f.Name, why, now); ferr != nil {
			return res, errors.Join(err, ferr)
		}
		return res, fmt.Errorf("feeds: %s: %s", f.Name, why)
	}
	return res, nil
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Syncer) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

// syncList fetches a csv or text feed with a conditional GET and replaces
// the feed's indicators with what it lists.
func (s *Syncer) syncList(ctx context.Context, f Feed, st store.FeedState, now time.Time, res *Result) error {
	req, err := newRequest(ctx, f, f.URL, "Auth-Key") // abuse.ch's header
	if err != nil {
		return err
	}
	if st.ETag != "" {
		req.Header.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		req.Header.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		res.NotModified = true
		return s.Store.TouchFeed(ctx, f.Name, f.TTL, now)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("http %d: %s", resp.StatusCode, provider.Excerpt(b, 200))
	}
	body := io.LimitReader(resp.Body, f.MaxBody+1)
	counted := &countingReader{r: body}
	var inds []store.FeedIndicator
	seen := ioc.Set{}
	_, err = readList(f, counted, func(i ioc.IOC) error {
		if counted.n > f.MaxBody {
			return fmt.Errorf("the feed is over %d bytes (max_body)", f.MaxBody)
		}
		if seen.Add(i) {
			inds = append(inds, store.FeedIndicator{IOC: i, Confidence: f.Confidence, TLP: f.Level, Expires: now.Add(f.TTL)})
		}
		return nil
	})
	if err == nil && counted.n > f.MaxBody {
		err = fmt.Errorf("the feed is over %d bytes (max_body)", f.MaxBody)
	}
	if err != nil {
		return err
	}
	res.Read = len(inds)
	next := store.FeedState{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	res.New, res.Removed, err = s.Store.SyncFeed(ctx, f.Name, inds, nil, true, next, now)
	return err
}

// syncTAXII reads what a TAXII collection added since the last cursor.
func (s *Syncer) syncTAXII(ctx context.Context, f Feed, st store.FeedState, now time.Time, res *Result) error {
	cfg := taxii.Config{URL: f.URL, Collection: f.Collection, APIKey: f.APIKey, MaxBody: f.MaxBody}
	if f.Username != "" {
		cfg.Username, cfg.Password = provider.NewSecret(f.Username), f.Password
	}
	c, err := taxii.New(cfg, s.client())
	if err != nil {
		return err
	}
	var inds []store.FeedIndicator
	var removed []ioc.IOC
	cursor, err := c.Sync(ctx, st.Cursor, func(in taxii.Indicator) error {
		exp := now.Add(f.TTL)
		if !in.ValidUntil.IsZero() && in.ValidUntil.Before(exp) {
			exp = in.ValidUntil
		}
		if in.Revoked || !exp.After(now) {
			removed = append(removed, in.IOC)
			return nil
		}
		conf := f.Confidence
		if in.Confidence > 0 {
			conf = in.Confidence
		}
		level := f.Level
		if l, ok := tlp.Parse(in.TLP); ok && in.TLP != "" && l > level {
			level = l
		}
		inds = append(inds, store.FeedIndicator{IOC: in.IOC, Confidence: conf, TLP: level, Expires: exp})
		return nil
	})
	if err != nil {
		return err
	}
	res.Read = len(inds) + len(removed)
	res.New, res.Removed, err = s.Store.SyncFeed(ctx, f.Name, inds, removed, false, store.FeedState{Cursor: cursor}, now)
	return err
}

// newRequest is a GET of u for feed f with its credentials: Basic auth
// with a username, else the API key raw in keyHeader.
func newRequest(ctx context.Context, f Feed, u, keyHeader string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "iocane-feeds")
	switch {
	case f.Username != "":
		req.SetBasicAuth(f.Username, f.Password.Reveal())
	case !f.APIKey.IsZero():
		req.Header.Set(keyHeader, f.APIKey.Reveal())
	}
	return req, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
