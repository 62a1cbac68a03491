package report

import (
	"time"

	"github.com/iocane/iocane/internal/integrations"
)

// NotifySinks are the sink names that notify the analyst; every other sink
// writes back to the alert's system.
var NotifySinks = map[string]bool{"slack": true, "teams": true, "email": true, "notify_webhook": true}

// FromOutcomes turns the integrations dispatcher's outcome records into
// report deliveries; received gives each job's alert receipt time (the
// job's creation), zero when unknown.
func FromOutcomes(outs []integrations.Outcome, received func(jobID string) time.Time) []Delivery {
	ds := make([]Delivery, 0, len(outs))
	for _, o := range outs {
		d := Delivery{JobID: o.JobID, Sink: o.Sink, Notify: NotifySinks[o.Sink], OK: o.OK, Attempts: o.Attempts, Finished: o.Finished}
		if received != nil {
			d.Received = received(o.JobID)
		}
		ds = append(ds, d)
	}
	return ds
}
