package mailbox

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/iocane/iocane/internal/jobs"
)

// fakeQueue is a job queue with the idempotency of jobs.Queue: a repeated
// key returns the first job with existing=true.
type fakeQueue struct {
	mu    sync.Mutex
	jobs  []jobs.Spec
	byKey map[string]int
	// failAfterStore makes the next Submit store the job and then return
	// an error, as a process killed after the commit would look.
	failAfterStore bool
	// down makes Submit fail without storing.
	down bool
}

var errCrash = errors.New("fake crash after commit")

func (q *fakeQueue) Submit(_ context.Context, s jobs.Spec) (jobs.Job, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.down {
		return jobs.Job{}, false, errors.New("queue down")
	}
	if q.byKey == nil {
		q.byKey = map[string]int{}
	}
	if i, ok := q.byKey[s.IdempotencyKey]; ok && s.IdempotencyKey != "" {
		return jobs.Job{ID: strconv.Itoa(i), State: jobs.Queued, Source: s.Source, Alert: s.Alert}, true, nil
	}
	q.jobs = append(q.jobs, s)
	q.byKey[s.IdempotencyKey] = len(q.jobs) - 1
	j := jobs.Job{ID: strconv.Itoa(len(q.jobs) - 1), State: jobs.Queued, Source: s.Source, Alert: s.Alert}
	if q.failAfterStore {
		q.failAfterStore = false
		return jobs.Job{}, false, errCrash
	}
	return j, false, nil
}

func (q *fakeQueue) specs() []jobs.Spec {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]jobs.Spec(nil), q.jobs...)
}

var _ Submitter = (*fakeQueue)(nil)
var _ Submitter = (jobs.Queue)(nil)
