package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// feedsSchema is migration 6: the local intel store of threat feeds
// (internal/feeds). An indicator is kept per feed; expires_at is when it
// stops matching (Unix ms). feed_state is each feed's sync record.
const feedsSchema = `CREATE TABLE feed_indicators (
	feed       TEXT NOT NULL,
	type       TEXT NOT NULL,
	value      TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	confidence INTEGER NOT NULL,
	tlp        TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (feed, type, value)
) WITHOUT ROWID;
CREATE INDEX feed_indicators_ioc ON feed_indicators (type, value);
CREATE TABLE feed_state (
	feed          TEXT PRIMARY KEY,
	etag          TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	cursor        TEXT NOT NULL DEFAULT '',
	last_sync     INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT NOT NULL DEFAULT '',
	error_at      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;`

// FeedIndicator is one IOC a feed holds, as stored.
type FeedIndicator struct {
	Feed       string
	IOC        ioc.IOC
	FirstSeen  time.Time
	LastSeen   time.Time
	Confidence int
	TLP        tlp.Level
	Expires    time.Time
}

// FeedState is a feed's sync record.
type FeedState struct {
	Feed         string
	ETag         string
	LastModified string
	Cursor       string
	LastSync     time.Time // the last successful sync
	LastError    string
	ErrorAt      time.Time
	Held         int // indicators held (not expired)
}

// SyncFeed stores one successful sync of feed in a transaction: it upserts
// inds (keeping each one's first_seen), removes the IOCs in removed, and,
// for a snapshot feed (replace), every indicator the sync did not see. It
// records st as the feed's state, error cleared. It returns the
// indicators that were new, and how many were removed.
func (db *DB) SyncFeed(ctx context.Context, feed string, inds []FeedIndicator, removed []ioc.IOC, replace bool, st FeedState, now time.Time) (added []ioc.IOC, gone int, err error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("store: feed %s: %w", feed, err)
	}
	defer tx.Rollback()
	up, err := tx.PrepareContext(ctx, db.q(`INSERT INTO feed_indicators (feed, type, value, first_seen, last_seen, confidence, tlp, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (feed, type, value) DO UPDATE SET last_seen = excluded.last_seen, confidence = excluded.confidence,
			tlp = excluded.tlp, expires_at = excluded.expires_at
		RETURNING first_seen`))
	if err != nil {
		return nil, 0, fmt.Errorf("store: feed %s: %w", feed, err)
	}
	defer up.Close()
	ms := now.UnixMilli()
	for _, in := range inds {
		var first int64
		if err := up.QueryRowContext(ctx, feed, string(in.IOC.Type), in.IOC.Value, ms, ms, in.Confidence, in.TLP.String(),
			in.Expires.UnixMilli()).Scan(&first); err != nil {
			return nil, 0, fmt.Errorf("store: feed %s: %w", feed, err)
		}
		if first == ms {
			added = append(added, in.IOC)
		}
	}
	for _, i := range removed {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM feed_indicators WHERE feed = ? AND type = ? AND value = ?`), feed, string(i.Type), i.Value)
		if err != nil {
			return nil, 0, fmt.Errorf("store: feed %s: %w", feed, err)
		}
		n, _ := res.RowsAffected()
		gone += int(n)
	}
	if replace {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM feed_indicators WHERE feed = ? AND last_seen < ?`), feed, ms)
		if err != nil {
			return nil, 0, fmt.Errorf("store: feed %s: %w", feed, err)
		}
		n, _ := res.RowsAffected()
		gone += int(n)
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO feed_state (feed, etag, last_modified, cursor, last_sync, last_error, error_at)
		VALUES (?, ?, ?, ?, ?, '', 0)
		ON CONFLICT (feed) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, cursor = excluded.cursor,
			last_sync = excluded.last_sync, last_error = '', error_at = 0`),
		feed, st.ETag, st.LastModified, st.Cursor, ms); err != nil {
		return nil, 0, fmt.Errorf("store: feed %s: %w", feed, err)
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO feed_syncs (feed, at, added, removed) VALUES (?, ?, ?, ?)`), feed, ms, len(added), gone); err != nil {
		return nil, 0, fmt.Errorf("store: feed %s: %w", feed, err)
	}
	return added, gone, tx.Commit()
}

// feedSyncsSchema is migration 7: each successful sync's counts, for the
// weekly report.
const feedSyncsSchema = `CREATE TABLE feed_syncs (
	feed    TEXT NOT NULL,
	at      INTEGER NOT NULL,
	added   INTEGER NOT NULL,
	removed INTEGER NOT NULL
);
CREATE INDEX feed_syncs_at ON feed_syncs (at);`

// FeedFigure is what one feed did in a window, for the weekly report.
type FeedFigure struct {
	Feed    string `json:"feed"`
	Added   int64  `json:"added"`
	Removed int64  `json:"removed"`
	Expired int64  `json:"expired"`
	// Matched counts server-job results the feed matched; Alerts the
	// alerts (jobs with an alert) among their jobs.
	Matched int64 `json:"matched"`
	Alerts  int64 `json:"alerts"`
}

// FeedFigures returns each feed's figures for [from, to): indicators added
// and removed by syncs, indicators that expired, and the server-job
// results and alerts it matched (the feeds source's ok answers, by the
// feed names in their data).
func (db *DB) FeedFigures(ctx context.Context, from, to time.Time) ([]FeedFigure, error) {
	by := map[string]*FeedFigure{}
	get := func(name string) *FeedFigure {
		if by[name] == nil {
			by[name] = &FeedFigure{Feed: name}
		}
		return by[name]
	}
	f, t := from.UnixMilli(), to.UnixMilli()
	queries := []struct {
		q    string
		scan func(*sql.Rows) error
	}{
		{db.pick(`SELECT feed, sum(added), sum(removed) FROM feed_syncs WHERE at >= ? AND at < ? GROUP BY feed`,
			`SELECT feed, sum(added)::bigint, sum(removed)::bigint FROM feed_syncs WHERE at >= ? AND at < ? GROUP BY feed`), func(r *sql.Rows) error {
			var name string
			var a, rm int64
			err := r.Scan(&name, &a, &rm)
			get(name).Added, get(name).Removed = a, rm
			return err
		}},
		{db.q(`SELECT feed, count(*) FROM feed_indicators WHERE expires_at >= ? AND expires_at < ? GROUP BY feed`), func(r *sql.Rows) error {
			var name string
			var n int64
			err := r.Scan(&name, &n)
			get(name).Expired = n
			return err
		}},
		{db.pick(`SELECT fe.value, count(*), count(DISTINCT CASE WHEN j.alert IS NOT NULL THEN j.id END)
			FROM jobs j JOIN job_results r ON r.job_id = j.id,
				json_each(CAST(r.result AS TEXT), '$.sources') s,
				json_each(s.value, '$.data.feeds') fe
			WHERE j.created_at >= ? AND j.created_at < ?
				AND json_extract(s.value, '$.provider') = 'feeds' AND json_extract(s.value, '$.status') = 'ok'
			GROUP BY fe.value`,
			// jsonb_array_elements fails on a non-array, where json_each
			// yields nothing: hence the CASEs.
			`SELECT fe.value, count(*), count(DISTINCT CASE WHEN j.alert IS NOT NULL THEN j.id END)
			FROM jobs j JOIN job_results r ON r.job_id = j.id,
				LATERAL (SELECT convert_from(r.result, 'UTF8')::jsonb -> 'sources' AS v) src,
				jsonb_array_elements(CASE WHEN jsonb_typeof(src.v) = 'array' THEN src.v END) AS s(value),
				jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.value -> 'data' -> 'feeds') = 'array'
					THEN s.value -> 'data' -> 'feeds' END) AS fe(value)
			WHERE j.created_at >= ? AND j.created_at < ?
				AND s.value ->> 'provider' = 'feeds' AND s.value ->> 'status' = 'ok'
			GROUP BY fe.value`), func(r *sql.Rows) error {
			var name string
			var m, a int64
			err := r.Scan(&name, &m, &a)
			get(name).Matched, get(name).Alerts = m, a
			return err
		}},
	}
	for _, qs := range queries {
		rows, err := db.read.QueryContext(ctx, qs.q, f, t)
		if err != nil {
			return nil, fmt.Errorf("store: feed figures: %w", err)
		}
		for rows.Next() {
			if err := qs.scan(rows); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: feed figures: %w", err)
			}
		}
		if err := closeRows(rows); err != nil {
			return nil, fmt.Errorf("store: feed figures: %w", err)
		}
	}
	out := make([]FeedFigure, 0, len(by))
	for _, v := range by {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b FeedFigure) int { return strings.Compare(a.Feed, b.Feed) })
	return out, nil
}

// TouchFeed records a sync that found the feed unchanged (304): its
// indicators were seen again now, and live another ttl.
func (db *DB) TouchFeed(ctx context.Context, feed string, ttl time.Duration, now time.Time) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: feed %s: %w", feed, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, db.pick(`UPDATE feed_indicators SET last_seen = ?, expires_at = max(expires_at, ?) WHERE feed = ?`,
		`UPDATE feed_indicators SET last_seen = ?, expires_at = GREATEST(expires_at, ?) WHERE feed = ?`),
		now.UnixMilli(), now.Add(ttl).UnixMilli(), feed); err != nil {
		return fmt.Errorf("store: feed %s: %w", feed, err)
	}
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE feed_state SET last_sync = ?, last_error = '', error_at = 0 WHERE feed = ?`), now.UnixMilli(), feed); err != nil {
		return fmt.Errorf("store: feed %s: %w", feed, err)
	}
	return tx.Commit()
}

// FeedFailed records a failed sync of feed; its indicators stay.
func (db *DB) FeedFailed(ctx context.Context, feed string, why string, now time.Time) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO feed_state (feed, last_error, error_at) VALUES (?, ?, ?)
		ON CONFLICT (feed) DO UPDATE SET last_error = excluded.last_error, error_at = excluded.error_at`), feed, why, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: feed %s: %w", feed, err)
	}
	return nil
}

// FeedSync returns feed's sync record (zero when never synced), without
// counting what it holds: what a sync and the poller read.
func (db *DB) FeedSync(ctx context.Context, feed string) (FeedState, error) {
	st := FeedState{Feed: feed}
	var last, errAt int64
	err := db.read.QueryRowContext(ctx, db.q(`SELECT etag, last_modified, cursor, last_sync, last_error, error_at FROM feed_state WHERE feed = ?`), feed).
		Scan(&st.ETag, &st.LastModified, &st.Cursor, &last, &st.LastError, &errAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("store: feed %s: %w", feed, err)
	}
	if last > 0 {
		st.LastSync = ms(last)
	}
	if errAt > 0 {
		st.ErrorAt = ms(errAt)
	}
	return st, nil
}

// FeedState is FeedSync with the indicators the feed holds at now, for
// `iocane feeds list`.
func (db *DB) FeedState(ctx context.Context, feed string, now time.Time) (FeedState, error) {
	st, err := db.FeedSync(ctx, feed)
	if err != nil {
		return st, err
	}
	if err := db.read.QueryRowContext(ctx, db.q(`SELECT count(*) FROM feed_indicators WHERE feed = ? AND expires_at > ?`), feed, now.UnixMilli()).Scan(&st.Held); err != nil {
		return st, fmt.Errorf("store: feed %s: %w", feed, err)
	}
	return st, nil
}

// FeedIndicators calls fn with every indicator not expired at now.
func (db *DB) FeedIndicators(ctx context.Context, now time.Time, fn func(FeedIndicator)) error {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT feed, type, value, first_seen, last_seen, confidence, tlp, expires_at
		FROM feed_indicators WHERE expires_at > ?`), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: feed indicators: %w", err)
	}
	for rows.Next() {
		var fi FeedIndicator
		var t, level string
		var first, last, exp int64
		if err := rows.Scan(&fi.Feed, &t, &fi.IOC.Value, &first, &last, &fi.Confidence, &level, &exp); err != nil {
			rows.Close()
			return fmt.Errorf("store: feed indicators: %w", err)
		}
		fi.IOC.Type, fi.FirstSeen, fi.LastSeen, fi.Expires = ioc.Type(t), ms(first), ms(last), ms(exp)
		fi.TLP, _ = tlp.Parse(level)
		fn(fi)
	}
	return closeRows(rows)
}
