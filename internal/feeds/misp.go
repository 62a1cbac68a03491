package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

// manifestEntry is one event of a MISP feed's manifest.json.
type manifestEntry struct {
	Timestamp json.Number `json:"timestamp"`
	Info      string      `json:"info"`
}

var eventUUID = regexp.MustCompile(`^[0-9a-fA-F-]{36}$`)

// syncMISP reads a MISP feed: its manifest.json, then each event whose
// timestamp is newer than the cursor (the newest timestamp read so far).
// Every attribute of those events that is an IOC is held (to_ids or not:
// the feed's confidence says how much it counts). An attribute the event
// marks deleted is not read, and what a feed no longer lists expires its
// ttl after it was last seen: events carry no removals.
func (s *Syncer) syncMISP(ctx context.Context, f Feed, st store.FeedState, now time.Time, res *Result) error {
	base := strings.TrimSuffix(strings.TrimSuffix(f.URL, "manifest.json"), "/") + "/"
	b, status, err := s.get(ctx, f, base+"manifest.json")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("manifest.json: http %d", status)
	}
	var manifest map[string]manifestEntry
	if err := json.Unmarshal(b, &manifest); err != nil {
		return fmt.Errorf("manifest.json: not a MISP feed manifest: %w", err)
	}
	since, _ := strconv.ParseInt(st.Cursor, 10, 64)
	newest := since
	var uuids []string
	for id, e := range manifest {
		ts, err := e.Timestamp.Int64()
		if err != nil || !eventUUID.MatchString(id) {
			continue // not an event entry
		}
		if ts > since {
			uuids = append(uuids, id)
			newest = max(newest, ts)
		}
	}
	slices.Sort(uuids)
	var inds []store.FeedIndicator
	for _, id := range uuids {
		b, status, err := s.get(ctx, f, base+url.PathEscape(id)+".json")
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("event %s: http %d", id, status)
		}
		err = input.Read(ctx, bytes.NewReader(b), id+".json", input.Options{Format: input.MISP}, func(it input.Item) error {
			level := f.Level
			if l, ok := tlp.Parse(it.TLP); ok && it.TLP != "" && l > level {
				level = l
			}
			inds = append(inds, store.FeedIndicator{IOC: it.IOC, Confidence: f.Confidence, TLP: level, Expires: now.Add(f.TTL)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("event %s: %w", id, err)
		}
	}
	res.Read = len(inds)
	res.New, res.Removed, err = s.Store.SyncFeed(ctx, f.Name, inds, nil, false, store.FeedState{Cursor: strconv.FormatInt(newest, 10)}, now)
	return err
}

// get fetches one file of a feed within its size cap, with its
// credentials.
func (s *Syncer) get(ctx context.Context, f Feed, u string) ([]byte, int, error) {
	req, err := newRequest(ctx, f, u, "Authorization") // a MISP instance's feed: its key
	if err != nil {
		return nil, 0, err
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, f.MaxBody+1))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if int64(len(b)) > f.MaxBody {
		return nil, resp.StatusCode, fmt.Errorf("%s is over %d bytes (max_body)", provider.Excerpt([]byte(u), 120), f.MaxBody)
	}
	return b, resp.StatusCode, nil
}
