package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/score"
)

// historySchema is migration 5. ioc_seen is what Recall reads before each
// enrichment, one row per IOC, so that read stays one point look-up however
// long the history grows; ioc_history and ioc_sightings are read only by
// Report, newest first through their (type, value, at) indexes. Each
// enrichment writes one history row, so ioc_history has no index on at
// alone: the hourly prune scans it instead. analyst_verdicts_version counts
// changes to the verdicts, so that a process holding them in memory sees
// another's change within a second. Times are Unix milliseconds;
// expires_at 0 means never.
const historySchema = `CREATE TABLE ioc_history (
	id         INTEGER PRIMARY KEY,
	type       TEXT NOT NULL,
	value      TEXT NOT NULL,
	at         INTEGER NOT NULL,
	verdict    TEXT NOT NULL,
	score      INTEGER NOT NULL,
	confidence INTEGER NOT NULL,
	sources    TEXT NOT NULL,
	origin     TEXT NOT NULL,
	job_id     TEXT NOT NULL DEFAULT '',
	alert      TEXT NOT NULL DEFAULT '',
	analyst    TEXT NOT NULL DEFAULT '',
	note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ioc_history_ioc ON ioc_history (type, value, at);
CREATE TABLE ioc_sightings (
	id     INTEGER PRIMARY KEY,
	type   TEXT NOT NULL,
	value  TEXT NOT NULL,
	source TEXT NOT NULL,
	alert  TEXT NOT NULL,
	job_id TEXT NOT NULL DEFAULT '',
	at     INTEGER NOT NULL
);
CREATE INDEX ioc_sightings_ioc ON ioc_sightings (type, value, at);
CREATE INDEX ioc_sightings_at ON ioc_sightings (at);
CREATE TABLE ioc_seen (
	type         TEXT NOT NULL,
	value        TEXT NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	last_verdict TEXT NOT NULL,
	sightings    INTEGER NOT NULL,
	PRIMARY KEY (type, value)
) WITHOUT ROWID;
CREATE INDEX ioc_seen_last ON ioc_seen (last_seen);
CREATE TABLE analyst_verdicts (
	type       TEXT NOT NULL,
	value      TEXT NOT NULL,
	verdict    TEXT NOT NULL,
	reason     TEXT NOT NULL,
	set_by     TEXT NOT NULL,
	set_at     INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (type, value)
) WITHOUT ROWID;
CREATE TABLE analyst_verdicts_version (v INTEGER NOT NULL);
INSERT INTO analyst_verdicts_version (v) VALUES (0);`

// RecordHistory keeps records in one transaction: each one's entry, a
// sighting for each one with an alert, and, for enrichments (every origin
// but "analyst"), the IOC's first and last seen, last verdict and
// sighting count.
func (db *DB) RecordHistory(ctx context.Context, recs []history.Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: history: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, db.q(`INSERT INTO ioc_history
		(type, value, at, verdict, score, confidence, sources, origin, job_id, alert, analyst, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return fmt.Errorf("store: history: %w", err)
	}
	defer ins.Close()
	seen, err := tx.PrepareContext(ctx, db.pick(`INSERT INTO ioc_seen (type, value, first_seen, last_seen, last_verdict, sightings)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (type, value) DO UPDATE SET
			first_seen = min(first_seen, excluded.first_seen),
			last_verdict = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_verdict ELSE last_verdict END,
			last_seen = max(last_seen, excluded.last_seen),
			sightings = sightings + excluded.sightings`,
		`INSERT INTO ioc_seen AS s (type, value, first_seen, last_seen, last_verdict, sightings)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (type, value) DO UPDATE SET
			first_seen = LEAST(s.first_seen, excluded.first_seen),
			last_verdict = CASE WHEN excluded.last_seen >= s.last_seen THEN excluded.last_verdict ELSE s.last_verdict END,
			last_seen = GREATEST(s.last_seen, excluded.last_seen),
			sightings = s.sightings + excluded.sightings`))
	if err != nil {
		return fmt.Errorf("store: history: %w", err)
	}
	defer seen.Close()
	for _, r := range recs {
		at := r.At.UnixMilli()
		if _, err := ins.ExecContext(ctx, string(r.IOC.Type), r.IOC.Value, at, string(r.Verdict), r.Score, r.Confidence,
			strings.Join(r.Sources, ","), r.Origin, r.Job, r.Alert, r.Analyst, r.Note); err != nil {
			return fmt.Errorf("store: history: %w", err)
		}
		if r.Origin == history.AnalystSource {
			continue
		}
		sighted := 0
		if r.Alert != "" {
			sighted = 1
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO ioc_sightings (type, value, source, alert, job_id, at) VALUES (?, ?, ?, ?, ?, ?)`),
				string(r.IOC.Type), r.IOC.Value, r.Origin, r.Alert, r.Job, at); err != nil {
				return fmt.Errorf("store: sighting: %w", err)
			}
		}
		if _, err := seen.ExecContext(ctx, string(r.IOC.Type), r.IOC.Value, at, at, string(r.Verdict), sighted); err != nil {
			return fmt.Errorf("store: history: %w", err)
		}
	}
	return tx.Commit()
}

// Recall returns what is known of i before it is enriched again: first and
// last seen, sightings, the last verdict and the analyst verdict in force
// at now. It is one point look-up through the read-only pool; the analyst
// verdicts are held in memory (see verdictSet).
func (db *DB) Recall(ctx context.Context, i ioc.IOC, now time.Time) (history.Recall, error) {
	var rc history.Recall
	var first, last int64
	var verdict string
	err := db.recallStmt.QueryRowContext(ctx, string(i.Type), i.Value).Scan(&first, &last, &verdict, &rc.Sightings)
	switch {
	case err == nil:
		rc.Seen, rc.FirstSeen, rc.LastSeen, rc.PreviousVerdict = true, ms(first), ms(last), result.Verdict(verdict)
	case !errors.Is(err, sql.ErrNoRows):
		return rc, fmt.Errorf("store: recall %s: %w", i, err)
	}
	rc.Analyst, err = db.AnalystVerdict(ctx, i, now)
	return rc, err
}

// AnalystVerdict returns the analyst verdict on i in force at now, nil when
// there is none. It reads the verdicts held in memory.
func (db *DB) AnalystVerdict(ctx context.Context, i ioc.IOC, now time.Time) (*history.Verdict, error) {
	vs, err := db.verdictSet(ctx)
	if err != nil {
		return nil, err
	}
	if v, ok := vs[i]; ok && v.Active(now) {
		return &v, nil
	}
	return nil, nil
}

// verdictsFresh is how long the verdicts held in memory are used before
// the version counter is read again: a verdict set by another process (the
// CLI while a server runs) applies within this.
const verdictsFresh = time.Second

// verdictSnap is the analyst verdicts as last read, with the version
// counter they were read at.
type verdictSnap struct {
	version int64
	checked time.Time
	byIOC   map[ioc.IOC]history.Verdict
}

// verdictSet returns every analyst verdict by IOC, read again only when
// the version counter moved (checked at most every verdictsFresh).
func (db *DB) verdictSet(ctx context.Context) (map[ioc.IOC]history.Verdict, error) {
	snap := db.verdicts.Load()
	if snap != nil && time.Since(snap.checked) < verdictsFresh {
		return snap.byIOC, nil
	}
	db.verdictsMu.Lock()
	defer db.verdictsMu.Unlock()
	if s := db.verdicts.Load(); s != nil && s != snap && time.Since(s.checked) < verdictsFresh {
		return s.byIOC, nil // another caller refreshed it meanwhile
	}
	var version int64
	if err := db.read.QueryRowContext(ctx, db.q(`SELECT v FROM analyst_verdicts_version`)).Scan(&version); err != nil {
		return nil, fmt.Errorf("store: verdicts: %w", err)
	}
	if snap != nil && snap.version == version {
		db.verdicts.Store(&verdictSnap{version: version, checked: time.Now(), byIOC: snap.byIOC})
		return snap.byIOC, nil
	}
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT type, value, verdict, reason, set_by, set_at, expires_at FROM analyst_verdicts`))
	if err != nil {
		return nil, fmt.Errorf("store: verdicts: %w", err)
	}
	by := map[ioc.IOC]history.Verdict{}
	for rows.Next() {
		v, err := scanVerdict(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		by[v.IOC] = v
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: verdicts: %w", err)
	}
	db.verdicts.Store(&verdictSnap{version: version, checked: time.Now(), byIOC: by})
	return by, nil
}

// commitVerdicts bumps the version counter in tx, commits, and drops this
// process's copy, so the change applies to its next enrichment.
func (db *DB) commitVerdicts(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE analyst_verdicts_version SET v = v + 1`)); err != nil {
		return fmt.Errorf("store: verdict: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: verdict: %w", err)
	}
	db.verdicts.Store(nil)
	return nil
}

// HistoryReport returns i's history and sightings, newest first, at most
// limit of each, with every sighting counted per source.
func (db *DB) HistoryReport(ctx context.Context, i ioc.IOC, limit int, now time.Time) (history.Report, error) {
	rep := history.Report{IOC: i, History: []history.Entry{}, Sightings: []history.Sighting{}, BySource: []history.SourceSightings{}}
	t, v := string(i.Type), i.Value
	var first, last int64
	err := db.read.QueryRowContext(ctx, db.q(`SELECT first_seen, last_seen FROM ioc_seen WHERE type = ? AND value = ?`), t, v).Scan(&first, &last)
	if err == nil {
		rep.FirstSeen, rep.LastSeen = ms(first), ms(last)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return rep, fmt.Errorf("store: history %s: %w", i, err)
	}
	if av, err := db.verdict(ctx, db.read, i); err == nil && av.Active(now) {
		rep.Verdict = &av
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return rep, err
	}
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT at, verdict, score, confidence, sources, origin, job_id, alert, analyst, note
		FROM ioc_history WHERE type = ? AND value = ? ORDER BY at DESC, id DESC LIMIT ?`), t, v, limit)
	if err != nil {
		return rep, fmt.Errorf("store: history %s: %w", i, err)
	}
	for rows.Next() {
		var e history.Entry
		var at int64
		var sources string
		if err := rows.Scan(&at, &e.Verdict, &e.Score, &e.Confidence, &sources, &e.Origin, &e.Job, &e.Alert, &e.Analyst, &e.Note); err != nil {
			rows.Close()
			return rep, fmt.Errorf("store: history %s: %w", i, err)
		}
		e.At, e.Sources = ms(at), splitList(sources)
		rep.History = append(rep.History, e)
	}
	if err := closeRows(rows); err != nil {
		return rep, fmt.Errorf("store: history %s: %w", i, err)
	}
	rows, err = db.read.QueryContext(ctx, db.q(`SELECT source, alert, job_id, at FROM ioc_sightings
		WHERE type = ? AND value = ? ORDER BY at DESC, id DESC LIMIT ?`), t, v, limit)
	if err != nil {
		return rep, fmt.Errorf("store: sightings %s: %w", i, err)
	}
	for rows.Next() {
		var s history.Sighting
		var at int64
		if err := rows.Scan(&s.Source, &s.Alert, &s.Job, &at); err != nil {
			rows.Close()
			return rep, fmt.Errorf("store: sightings %s: %w", i, err)
		}
		s.At = ms(at)
		rep.Sightings = append(rep.Sightings, s)
	}
	if err := closeRows(rows); err != nil {
		return rep, fmt.Errorf("store: sightings %s: %w", i, err)
	}
	rows, err = db.read.QueryContext(ctx, db.q(`SELECT source, count(*), min(at), max(at) FROM ioc_sightings
		WHERE type = ? AND value = ? GROUP BY source ORDER BY source`), t, v)
	if err != nil {
		return rep, fmt.Errorf("store: sightings %s: %w", i, err)
	}
	for rows.Next() {
		var s history.SourceSightings
		var lo, hi int64
		if err := rows.Scan(&s.Source, &s.Count, &lo, &hi); err != nil {
			rows.Close()
			return rep, fmt.Errorf("store: sightings %s: %w", i, err)
		}
		s.FirstSeen, s.LastSeen = ms(lo), ms(hi)
		rep.BySource = append(rep.BySource, s)
	}
	return rep, closeRows(rows)
}

// PruneHistory deletes entries and sightings older than before, the IOC
// summaries last seen before it, and analyst verdicts that expired before
// it. It returns the number of entries deleted.
func (db *DB) PruneHistory(ctx context.Context, before time.Time) (int64, error) {
	b := before.UnixMilli()
	res, err := db.sql.ExecContext(ctx, db.q(`DELETE FROM ioc_history WHERE at < ?`), b)
	if err != nil {
		return 0, fmt.Errorf("store: prune history: %w", err)
	}
	n, _ := res.RowsAffected()
	for _, q := range []string{
		db.q(`DELETE FROM ioc_sightings WHERE at < ?`),
		db.q(`DELETE FROM ioc_seen WHERE last_seen < ?`),
		db.q(`DELETE FROM analyst_verdicts WHERE expires_at > 0 AND expires_at < ?`),
		db.pick(`UPDATE analyst_verdicts_version SET v = v + 1 WHERE ? > 0`,
			`UPDATE analyst_verdicts_version SET v = v + 1 WHERE CAST(? AS BIGINT) > 0`),
	} {
		if _, err := db.sql.ExecContext(ctx, q, b); err != nil {
			return n, fmt.Errorf("store: prune history: %w", err)
		}
	}
	return n, nil
}

// SetVerdict stores an analyst verdict, replacing the IOC's previous one,
// and keeps the decision in the IOC's history.
func (db *DB) SetVerdict(ctx context.Context, v history.Verdict) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: verdict: %w", err)
	}
	defer tx.Rollback()
	var exp int64
	if !v.Expires.IsZero() {
		exp = v.Expires.UnixMilli()
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO analyst_verdicts (type, value, verdict, reason, set_by, set_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (type, value) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason,
			set_by = excluded.set_by, set_at = excluded.set_at, expires_at = excluded.expires_at`),
		string(v.IOC.Type), v.IOC.Value, string(v.Verdict), v.Reason, v.By, v.SetAt.UnixMilli(), exp); err != nil {
		return fmt.Errorf("store: verdict: %w", err)
	}
	if err := db.analystEntry(ctx, tx, v.IOC, history.Entry{At: v.SetAt, Verdict: v.Verdict,
		Score: v.Score(score.DefaultPolicy().Suspicious, score.DefaultPolicy().Malicious), Confidence: 100, Analyst: v.By, Note: v.Explain()}); err != nil {
		return err
	}
	return db.commitVerdicts(ctx, tx)
}

// RemoveVerdict deletes i's analyst verdict, recording who removed it, or
// returns ErrNotFound.
func (db *DB) RemoveVerdict(ctx context.Context, i ioc.IOC, by string, at time.Time) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: verdict: %w", err)
	}
	defer tx.Rollback()
	old, err := db.verdict(ctx, tx, i)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM analyst_verdicts WHERE type = ? AND value = ?`), string(i.Type), i.Value); err != nil {
		return fmt.Errorf("store: verdict: %w", err)
	}
	note := fmt.Sprintf("verdict removed (was %s, set by %s)", old.Verdict, old.By)
	if err := db.analystEntry(ctx, tx, i, history.Entry{At: at, Verdict: result.Unknown, Analyst: by, Note: note}); err != nil {
		return err
	}
	return db.commitVerdicts(ctx, tx)
}

// Verdicts lists analyst verdicts, newest first; expired ones only with
// all (they stay until history.retention prunes them).
func (db *DB) Verdicts(ctx context.Context, all bool, now time.Time) ([]history.Verdict, error) {
	q := `SELECT type, value, verdict, reason, set_by, set_at, expires_at FROM analyst_verdicts`
	args := []any{}
	if !all {
		q += ` WHERE expires_at = 0 OR expires_at > ?`
		args = append(args, now.UnixMilli())
	}
	rows, err := db.sql.QueryContext(ctx, db.q(q+` ORDER BY set_at DESC`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: verdicts: %w", err)
	}
	out := []history.Verdict{}
	for rows.Next() {
		v, err := scanVerdict(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	return out, closeRows(rows)
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (db *DB) verdict(ctx context.Context, q querier, i ioc.IOC) (history.Verdict, error) {
	row := q.QueryRowContext(ctx, db.q(`SELECT type, value, verdict, reason, set_by, set_at, expires_at FROM analyst_verdicts WHERE type = ? AND value = ?`),
		string(i.Type), i.Value)
	v, err := scanVerdict(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

func scanVerdict(row interface{ Scan(...any) error }) (history.Verdict, error) {
	var v history.Verdict
	var t string
	var set, exp int64
	if err := row.Scan(&t, &v.IOC.Value, &v.Verdict, &v.Reason, &v.By, &set, &exp); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return v, err
		}
		return v, fmt.Errorf("store: verdict: %w", err)
	}
	v.IOC.Type, v.SetAt = ioc.Type(t), ms(set)
	if exp > 0 {
		v.Expires = ms(exp)
	}
	return v, nil
}

func (db *DB) analystEntry(ctx context.Context, tx *sql.Tx, i ioc.IOC, e history.Entry) error {
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO ioc_history
		(type, value, at, verdict, score, confidence, sources, origin, analyst, note) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?)`),
		string(i.Type), i.Value, e.At.UnixMilli(), string(e.Verdict), e.Score, e.Confidence, history.AnalystSource, e.Analyst, e.Note); err != nil {
		return fmt.Errorf("store: verdict history: %w", err)
	}
	return nil
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	return errors.Join(err, rows.Close())
}
