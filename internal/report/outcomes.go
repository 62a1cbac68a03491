package report

import (
	"context"
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

// OutcomeSource reads the dispatcher's outcomes from the store file at
// path (--db); a file in which no server ever delivered has none recorded,
// and the report says "no data" rather than zero.
func OutcomeSource(path string) DeliverySource {
	return func(ctx context.Context, from, to time.Time) ([]Delivery, bool, error) {
		outs, ok, err := integrations.ReadOutcomes(ctx, path, from, to)
		if err != nil || !ok {
			return nil, ok, err
		}
		return FromOutcomes(outs), true, nil
	}
}
