package store

import (
	"context"
	"fmt"
	"time"
)

// Replayed records a webhook signature as used until expires and reports
// whether it was already recorded and not yet expired: the intake's replay
// check, kept in the file so that a restart does not forget it. Expired
// signatures are deleted as new ones come.
func (db *DB) Replayed(ctx context.Context, sig string, expires time.Time) (bool, error) {
	now := db.now().UnixMilli()
	res, err := db.sql.ExecContext(ctx,
		db.q(`INSERT INTO webhook_signatures (sig, expires_at) VALUES (?, ?)
		 ON CONFLICT (sig) DO UPDATE SET expires_at = excluded.expires_at WHERE webhook_signatures.expires_at < ?`),
		sig, expires.UnixMilli(), now)
	if err != nil {
		return false, fmt.Errorf("store: webhook signature: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: webhook signature: %w", err)
	}
	if n == 0 {
		return true, nil
	}
	if _, err := db.sql.ExecContext(ctx, db.q(`DELETE FROM webhook_signatures WHERE expires_at < ?`), now); err != nil {
		return false, fmt.Errorf("store: webhook signatures: %w", err)
	}
	return false, nil
}
