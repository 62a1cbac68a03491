package store

import (
	"context"
	"fmt"
)

// Hold keeps a notification channel's held alert (notify.HeldStore).
func (db *DB) Hold(ctx context.Context, channel, key string, entry []byte) error {
	_, err := db.sql.ExecContext(ctx,
		db.q(`INSERT INTO notify_held (channel, key, entry) VALUES (?, ?, ?) ON CONFLICT (channel, key) DO UPDATE SET entry = excluded.entry`),
		channel, key, entry)
	if err != nil {
		return fmt.Errorf("store: hold: %w", err)
	}
	return nil
}

// Release forgets the held alerts a channel sent.
func (db *DB) Release(ctx context.Context, channel string, keys []string) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: release: %w", err)
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM notify_held WHERE channel = ? AND key = ?`), channel, k); err != nil {
			return fmt.Errorf("store: release: %w", err)
		}
	}
	return tx.Commit()
}

// Held returns a channel's held alerts, oldest first.
func (db *DB) Held(ctx context.Context, channel string) ([][]byte, error) {
	rows, err := db.sql.QueryContext(ctx, db.pick(`SELECT entry FROM notify_held WHERE channel = ? ORDER BY rowid`,
		`SELECT entry FROM notify_held WHERE channel = ? ORDER BY id`), channel)
	if err != nil {
		return nil, fmt.Errorf("store: held: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("store: held: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
