package report

import (
	"context"
	"database/sql"
	"time"

	"github.com/iocane/iocane/internal/integrations"
)

// FromOutcomes turns the integrations dispatcher's outcome records into
// report deliveries.
func FromOutcomes(outs []integrations.Outcome) []Delivery {
	ds := make([]Delivery, 0, len(outs))
	for _, o := range outs {
		ds = append(ds, Delivery{
			JobID: o.JobID, Sink: o.Sink, Notify: o.Kind == integrations.KindNotify, OK: o.OK,
			Attempts: o.Attempts, Received: o.Received, Finished: o.Finished,
		})
	}
	return ds
}

// StoreOutcomeSource reads the dispatcher's outcomes through a pool open
// gives on the store's database (store.DB.OpenReader), SQLite or
// PostgreSQL: what a PostgreSQL store needs, since its Path is a redacted
// URL, not something to open.
func StoreOutcomeSource(open func() (*sql.DB, error)) DeliverySource {
	return func(ctx context.Context, from, to time.Time) ([]Delivery, bool, error) {
		db, err := open()
		if err != nil {
			return nil, false, err
		}
		defer db.Close()
		outs, ok, err := integrations.ReadOutcomesDB(ctx, db, from, to)
		if err != nil || !ok {
			return nil, ok, err
		}
		return FromOutcomes(outs), true, nil
	}
}
