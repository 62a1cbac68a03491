package taxii

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"time"

	"github.com/iocane/iocane/internal/tlp"
)

// maxEmptyPages is how many pages in a row may promise more and bring no
// object before the server is judged to be looping.
const maxEmptyPages = 3

// Sync reads every object added to the collection after cursor (an RFC
// 3339 timestamp as a previous Sync returned it; "" reads everything),
// page by page, and calls emit for each IOC of each indicator, revoked
// ones included (Revoked set) so that the caller can drop them.
//
// It returns the new cursor: the latest X-TAXII-Date-Added-Last of the
// pages read, else the newest date_added some servers put on objects, else
// cursor unchanged. The cursor advances only past pages whose every IOC
// was emitted, so on an error (emit's included, wrapped) the cursor
// returned is still good to resume from. When the error wraps
// ErrBadIndicator, the whole collection was read and only the indicators
// named in it were skipped.
func (c *Client) Sync(ctx context.Context, cursor string, emit func(Indicator) error) (string, error) {
	var last time.Time // the cursor's time; added_after's while paging by it
	if cursor != "" {
		t, err := time.Parse(time.RFC3339Nano, cursor)
		if err != nil {
			return cursor, fmt.Errorf("taxii: cursor %s: want an RFC 3339 timestamp", excerpt(cursor))
		}
		last = t
	}
	root, err := c.apiRoot(ctx)
	if err != nil {
		return cursor, err
	}
	coll := root.JoinPath("collections", c.cfg.Collection) // JoinPath escapes the id
	coll.Path += "/"
	if err := c.checkCollection(ctx, coll); err != nil {
		return cursor, err
	}
	objects := coll.JoinPath("objects")
	objects.Path += "/"

	marks := map[string]tlp.Level{}
	var bad []error
	nbad := 0
	addedAfter, after := cursor, last
	next, prevNext, empty := "", "", 0
	for {
		q := url.Values{"limit": {strconv.Itoa(c.cfg.PageSize)}}
		if addedAfter != "" {
			q.Set("added_after", addedAfter)
		}
		if next != "" {
			q.Set("next", next)
		}
		u := *objects
		u.RawQuery = q.Encode()
		r, err := c.get(ctx, &u)
		if err != nil {
			return cursor, err
		}
		env, err := parseEnvelope(r.body)
		if err != nil {
			return cursor, fmt.Errorf("taxii: get %s: %w", objects.Path, err)
		}
		pageLast := r.header.Get("X-TAXII-Date-Added-Last")
		var pageTime time.Time
		if pageLast != "" {
			if pageTime, err = time.Parse(time.RFC3339Nano, pageLast); err != nil {
				return cursor, fmt.Errorf("taxii: get %s: %w: X-TAXII-Date-Added-Last %s is not an RFC 3339 timestamp", objects.Path, ErrBadResponse, excerpt(pageLast))
			}
		}
		p := readPage(env, marks)
		for _, ind := range p.indicators {
			if err := emit(ind); err != nil {
				return cursor, fmt.Errorf("taxii: emit: %w", err)
			}
		}
		nbad += len(p.bad)
		if len(bad) < 5 {
			bad = append(bad, p.bad[:min(len(p.bad), 5-len(bad))]...)
		}
		if pageLast == "" && p.dateAdded != "" {
			pageLast = p.dateAdded
			pageTime, _ = time.Parse(time.RFC3339Nano, pageLast)
		}
		if pageLast != "" && pageTime.After(last) {
			cursor, last = pageLast, pageTime
		}

		if !env.More {
			break
		}
		if len(env.Objects) == 0 {
			if empty++; empty >= maxEmptyPages {
				return cursor, fmt.Errorf("taxii: get %s: %w: %d pages in a row promise more objects and bring none", objects.Path, ErrBadResponse, empty)
			}
		} else {
			empty = 0
		}
		switch {
		case env.Next != "" && env.Next == prevNext:
			return cursor, fmt.Errorf("taxii: get %s: %w: the same next token twice", objects.Path, ErrBadResponse)
		case env.Next != "":
			next, prevNext = env.Next, env.Next
		case pageLast != "" && pageTime.After(after):
			// No next token: page by added_after, as TAXII 2.1 allows.
			addedAfter, after, next = pageLast, pageTime, ""
		default:
			return cursor, fmt.Errorf("taxii: get %s: %w: more objects promised without a next token or a later X-TAXII-Date-Added-Last", objects.Path, ErrBadResponse)
		}
		if err := ctx.Err(); err != nil {
			return cursor, fmt.Errorf("taxii: %w", err)
		}
	}
	if nbad > 0 {
		return cursor, fmt.Errorf("taxii: %w: %d, first: %w", ErrBadIndicator, nbad, errors.Join(bad...))
	}
	return cursor, nil
}

// discovery and apiRoot are the two answers Config.URL may give; one
// struct reads both and the members present tell which it was.
type rootOrDiscovery struct {
	Default  string   `json:"default"`
	APIRoots []string `json:"api_roots"`
	Versions []string `json:"versions"`
}

// apiRoot returns the API root URL (with a trailing slash), following
// discovery when Config.URL is a discovery URL, and checks that the root
// speaks TAXII 2.1.
func (c *Client) apiRoot(ctx context.Context) (*url.URL, error) {
	u := c.base
	var doc rootOrDiscovery
	if err := c.fetch(ctx, u, &doc, "discovery or API root"); err != nil {
		return nil, err
	}
	if doc.Versions == nil {
		pick := doc.Default
		if pick == "" && len(doc.APIRoots) > 0 {
			pick = doc.APIRoots[0]
		}
		if pick == "" {
			return nil, fmt.Errorf("taxii: %w: %s is neither a discovery resource with api roots nor an API root", ErrBadResponse, u.Redacted())
		}
		ref, err := url.Parse(pick)
		if err != nil {
			return nil, fmt.Errorf("taxii: %w: discovery names API root %s, not a URL", ErrBadResponse, excerpt(pick))
		}
		root := u.ResolveReference(ref)
		if root.Host != u.Host || (u.Scheme == "https" && root.Scheme != "https") || root.User != nil {
			return nil, fmt.Errorf("taxii: %w: discovery names API root %s on another host or without https; set url to the API root to trust it", ErrBadResponse, excerpt(root.Redacted()))
		}
		root.RawQuery, root.Fragment = "", ""
		if root.Path == "" || root.Path[len(root.Path)-1] != '/' {
			root.Path += "/"
		}
		u, doc = root, rootOrDiscovery{}
		if err := c.fetch(ctx, u, &doc, "API root"); err != nil {
			return nil, err
		}
	}
	for _, v := range doc.Versions {
		if mt, params, err := mime.ParseMediaType(v); err == nil && mt == "application/taxii+json" && params["version"] == "2.1" {
			return u, nil
		}
	}
	return nil, fmt.Errorf("taxii: %w: API root %s does not offer %s (versions %s)", ErrBadResponse, u.Path, MediaType, excerpt(fmt.Sprint(doc.Versions)))
}

// checkCollection fails early, with a clear error, when the collection is
// not readable.
func (c *Client) checkCollection(ctx context.Context, u *url.URL) error {
	var coll struct {
		ID      string `json:"id"`
		CanRead *bool  `json:"can_read"`
	}
	if err := c.fetch(ctx, u, &coll, "collection"); err != nil {
		return err
	}
	if coll.CanRead != nil && !*coll.CanRead {
		return fmt.Errorf("taxii: collection %s: can_read is false: %w", excerpt(c.cfg.Collection), ErrUnauthorized)
	}
	return nil
}

func (c *Client) fetch(ctx context.Context, u *url.URL, v any, what string) error {
	r, err := c.get(ctx, u)
	if err != nil {
		return err
	}
	if err := c.decode(r, v, what); err != nil {
		return fmt.Errorf("taxii: get %s: %w", u.Path, err)
	}
	return nil
}
