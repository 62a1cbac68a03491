package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/iocane/iocane/internal/integrations"
)

func TestFromOutcomes(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	outs := []integrations.Outcome{
		{JobID: "j1", Sink: "thehive", Kind: integrations.KindWriteBack, State: integrations.StateOK, OK: true, Attempts: 4, Retries: 3,
			Received: t0, StartedAt: t0.Add(time.Second), Finished: t0.Add(3 * time.Second)},
		{JobID: "j1", Sink: "slack", Kind: integrations.KindNotify, State: integrations.StateFailed, Attempts: 2, Retries: 1, Error: "503",
			Received: t0, Finished: t0.Add(4 * time.Second)},
	}
	got := FromOutcomes(outs)
	assert.Equal(t, []Delivery{
		{JobID: "j1", Sink: "thehive", OK: true, Attempts: 4, Received: t0, Finished: t0.Add(3 * time.Second)},
		{JobID: "j1", Sink: "slack", Notify: true, Attempts: 2, Received: t0, Finished: t0.Add(4 * time.Second)},
	}, got)
	a, d := deliveries(got)
	assert.Equal(t, 3000.0, *a.P50MS, "received → write-back landed")
	assert.Equal(t, Outcomes{OK: 1, Retries: 3}, d.WriteBack)
	assert.Equal(t, Outcomes{Failed: 1, Retries: 1}, d.Notify)
}
