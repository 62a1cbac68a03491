package mailbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/iocane/iocane/internal/ratelimit"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// graphBackend reads a Microsoft 365 mailbox through Microsoft Graph with
// an app's client credentials (Mail.ReadWrite application permission).
type graphBackend struct {
	cfg  Config
	http *http.Client // adds the bearer token
	now  func() time.Time

	mu      sync.Mutex
	folders map[string]string // folder path -> id, learnt once
}

func newGraph(c Config, o Options) *graphBackend {
	cc := &clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret.Reveal(),
		TokenURL:     c.TokenURL,
		Scopes:       []string{GraphScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	// The token source keeps this context for its token requests; the
	// base client's timeout bounds them.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, o.HTTPClient)
	hc := cc.Client(ctx)
	hc.Timeout = o.HTTPClient.Timeout
	return &graphBackend{cfg: c, http: hc, now: o.Now, folders: map[string]string{}}
}

// open resolves the folders (creating the processed and failed ones);
// Graph has no session, so the backend is its own.
func (g *graphBackend) open(ctx context.Context) (session, error) {
	for _, f := range []string{g.cfg.ProcessedFolder, g.cfg.FailedFolder} {
		if _, err := g.folder(ctx, f, true); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *graphBackend) user() string {
	return g.cfg.BaseURL + "/users/" + url.PathEscape(g.cfg.Mailbox)
}

// folder returns the id of a folder path such as "iocane/processed";
// "INBOX" is the well-known inbox.
func (g *graphBackend) folder(ctx context.Context, path string, create bool) (string, error) {
	if strings.EqualFold(path, "inbox") {
		return "inbox", nil
	}
	g.mu.Lock()
	id, ok := g.folders[path]
	g.mu.Unlock()
	if ok {
		return id, nil
	}
	coll := g.user() + "/mailFolders"
	for _, name := range strings.Split(path, "/") {
		q := "displayName eq '" + strings.ReplaceAll(name, "'", "''") + "'"
		var list struct {
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
		}
		if err := g.do(ctx, http.MethodGet, coll+"?$filter="+strings.ReplaceAll(url.QueryEscape(q), "+", "%20"), nil, &list); err != nil {
			return "", fmt.Errorf("graph folder %q: %w", path, err)
		}
		if len(list.Value) > 0 {
			id = list.Value[0].ID
		} else {
			if !create {
				return "", fmt.Errorf("graph folder %q: not found", path)
			}
			var f struct {
				ID string `json:"id"`
			}
			if err := g.do(ctx, http.MethodPost, coll, map[string]string{"displayName": name}, &f); err != nil {
				return "", fmt.Errorf("graph create folder %q: %w", path, err)
			}
			id = f.ID
		}
		coll = g.user() + "/mailFolders/" + url.PathEscape(id) + "/childFolders"
	}
	g.mu.Lock()
	g.folders[path] = id
	g.mu.Unlock()
	return id, nil
}

func (g *graphBackend) list(ctx context.Context, n int) ([]message, error) {
	src, err := g.folder(ctx, g.cfg.Folder, false)
	if err != nil {
		return nil, err
	}
	var page struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	u := g.user() + "/mailFolders/" + url.PathEscape(src) + "/messages?$top=" + strconv.Itoa(n) + "&$select=id,internetMessageId,subject,from"
	if err := g.do(ctx, http.MethodGet, u, nil, &page); err != nil {
		return nil, err
	}
	out := make([]message, 0, len(page.Value))
	for _, m := range page.Value {
		if len(out) < n && m.ID != "" {
			out = append(out, message{ref: m.ID})
		}
	}
	return out, nil
}

func (g *graphBackend) fetch(ctx context.Context, m message, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.user()+"/messages/"+url.PathEscape(m.ref)+"/$value", nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := g.check(resp); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return raw, nil
}

func (g *graphBackend) move(ctx context.Context, m message, folder string) error {
	id, err := g.folder(ctx, folder, true)
	if err != nil {
		return err
	}
	return g.do(ctx, http.MethodPost, g.user()+"/messages/"+url.PathEscape(m.ref)+"/move", map[string]string{"destinationId": id}, nil)
}

func (g *graphBackend) close() error { return nil }

// do sends a JSON request and decodes a JSON answer into out (when not nil).
func (g *graphBackend) do(ctx context.Context, method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := g.check(resp); err != nil {
		return err
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out); err != nil {
		return fmt.Errorf("graph: bad response: %w", err)
	}
	return nil
}

// send sends req with a bearer token; a refused token request is
// ErrUnauthorized.
func (g *graphBackend) send(req *http.Request) (*http.Response, error) {
	resp, err := g.http.Do(req)
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return nil, fmt.Errorf("graph token: %w (%s %s)", ErrUnauthorized, re.ErrorCode, re.ErrorDescription)
	}
	return resp, err
}

// check turns a non-2xx answer into a *StatusError (a 404 also wraps
// errGone: the message was moved or deleted meanwhile).
func (g *graphBackend) check(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode == http.StatusNotFound && strings.Contains(resp.Request.URL.Path, "/messages/") {
		return fmt.Errorf("%w: %w", errGone, &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))})
	}
	return &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b)), RetryAfter: retryAfter(resp.Header.Get("Retry-After"), g.now())}
}

// retryAfter reads Retry-After (ratelimit.ParseRetryAfter); 0 when absent
// or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	d, _ := ratelimit.ParseRetryAfter(v, now)
	return d
}
