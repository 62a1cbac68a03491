package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/tlp"
	"github.com/riverqueue/river"
)

// Group commit: Submit hands its job to one committer goroutine, which
// stores every job waiting at that moment in a single transaction (up to
// maxGroup) and then answers each. Under load, many submissions share one
// commit and one write of each B-tree page to the WAL; alone, a submission
// commits at once. BenchmarkSubmit measures the gain (see the package doc).
const maxGroup = 256

// submitReq is one Submit waiting for the committer.
type submitReq struct {
	s     Spec
	input []byte // s.Input as stored, encoded with enc
	enc   string
	spec  []byte
	alert []byte
	now   time.Time
	done  chan submitResp
}

type submitResp struct {
	j        Job
	existing bool
	err      error
}

// Submit stores the job and its River job in one transaction: when it
// returns without error the job is durable. If ctx ends first, Submit
// returns ctx's error, but the job may still be stored; submitting again
// with the same idempotency key then returns it.
func (q *RiverQueue) Submit(ctx context.Context, s Spec) (Job, bool, error) {
	if err := validate(&s); err != nil {
		return Job{}, false, err
	}
	req := &submitReq{s: s, now: q.now(), done: make(chan submitResp, 1)}
	var err error
	if req.input, req.enc, err = encodeInput(s.Input); err != nil {
		return Job{}, false, fmt.Errorf("jobs: submit: %w", err)
	}
	req.s.Input = nil // the committer stores req.input
	if req.spec, err = json.Marshal(s); err != nil {
		return Job{}, false, fmt.Errorf("jobs: submit: %w", err)
	}
	if s.Alert != nil {
		req.alert, _ = json.Marshal(s.Alert)
	}
	select {
	case q.submits <- req:
	case <-q.closing:
		return Job{}, false, errors.New("jobs: submit: queue closed")
	case <-ctx.Done():
		return Job{}, false, fmt.Errorf("jobs: submit: %w", ctx.Err())
	}
	select {
	case r := <-req.done:
		if r.err == nil {
			q.observeSubmit(s.Source, r.existing)
		}
		return r.j, r.existing, r.err
	case <-ctx.Done():
		return Job{}, false, fmt.Errorf("jobs: submit: %w", ctx.Err())
	}
}

// startCommitters starts the committer goroutines: one on SQLite, whose
// writes are serial anyway; a few on PostgreSQL, which takes concurrent
// writers, so that one group's round trips do not hold up the next.
func (q *RiverQueue) startCommitters() {
	n := 1
	if q.dialect == dbx.Postgres {
		n = pgCommitters
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(q.commitLoop)
	}
	go func() {
		wg.Wait()
		close(q.committed)
	}()
}

// pgCommitters is how many groups commit at once on PostgreSQL.
const pgCommitters = 4

// commitLoop is a committer goroutine.
func (q *RiverQueue) commitLoop() {
	for {
		var first *submitReq
		select {
		case first = <-q.submits:
		case <-q.closing:
			return
		}
		group := []*submitReq{first}
		runtime.Gosched() // let submitters that are about to send join this group
	fill:
		for len(group) < maxGroup {
			select {
			case r := <-q.submits:
				group = append(group, r)
			default:
				break fill
			}
		}
		resps, err := q.commitGroup(group)
		if err != nil && (len(group) > 1 || conflict(err)) {
			// One bad submission must not sink the others: retry alone.
			// On PostgreSQL a submission alone is also retried when another
			// process committed the same idempotency key first (or a
			// deadlock chose this group): the retry finds that job.
			for i, r := range group {
				one, err := q.commitGroup([]*submitReq{r})
				if err != nil {
					one = []submitResp{{err: err}}
				}
				resps[i] = one[0]
			}
		} else if err != nil {
			resps = []submitResp{{err: err}}
		}
		for i, r := range group {
			r.done <- resps[i]
		}
	}
}

// commitGroup stores a group of submissions in one transaction.
func (q *RiverQueue) commitGroup(group []*submitReq) ([]submitResp, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resps := make([]submitResp, len(group))
	tx, err := q.client.begin(ctx)
	if err != nil {
		return resps, fmt.Errorf("jobs: submit: %w", err)
	}
	defer tx.rollback(ctx)

	// Idempotency: an earlier job with the key, or an earlier submission
	// in this very group.
	byKey := map[string]int{}
	var fresh []int
	for i, r := range group {
		k := r.s.IdempotencyKey
		if k == "" {
			fresh = append(fresh, i)
			continue
		}
		if first, ok := byKey[k]; ok {
			_ = first // answered with that submission's job after the commit
			resps[i].existing = true
			continue
		}
		j, err := tx.findKey(ctx, k)
		switch {
		case err == nil:
			resps[i] = submitResp{j: j, existing: true}
		case errors.Is(err, ErrNotFound):
			byKey[k] = i
			fresh = append(fresh, i)
		default:
			return resps, fmt.Errorf("jobs: submit: %w", err)
		}
	}

	if len(fresh) > 0 {
		params := make([]river.InsertManyParams, len(fresh))
		for n, i := range fresh {
			resps[i].j = Job{ID: newID(), State: Queued, Source: group[i].s.Source, Alert: group[i].s.Alert,
				CreatedAt: group[i].now.UTC().Truncate(time.Millisecond)}
			params[n] = river.InsertManyParams{Args: enrichArgs{JobID: resps[i].j.ID}, InsertOpts: insertOpts(group[i].s)}
		}
		inserted, err := tx.insertRiver(ctx, params)
		if err != nil {
			return resps, fmt.Errorf("jobs: submit: %w", err)
		}
		for n, i := range fresh {
			r := group[i]
			if err := tx.insertJob(ctx, resps[i].j.ID, nullString(r.s.IdempotencyKey), inserted[n].Job.ID, r.s.Source,
				nullBytes(r.alert), r.spec, r.input, r.enc, Queued, r.now.UnixMilli()); err != nil {
				return resps, fmt.Errorf("jobs: submit: %w", err)
			}
		}
	}
	if err := tx.commit(ctx); err != nil {
		return resps, fmt.Errorf("jobs: submit: %w", err)
	}
	for i, r := range group {
		if first, ok := byKey[r.s.IdempotencyKey]; ok && first != i && resps[i].existing {
			resps[i].j = resps[first].j
		}
	}
	return resps, nil
}

// validate fills defaults and rejects a Spec that cannot run.
func validate(s *Spec) error {
	if s.Source == "" {
		s.Source = "api"
	}
	if len(s.Input) == 0 {
		return fmt.Errorf("%w: empty input", ErrInvalid)
	}
	f, err := input.ParseFormat(s.InputFormat)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	s.InputFormat = string(f)
	if s.TLP != "" {
		if _, err := tlp.MustParse(s.TLP); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if s.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout", ErrInvalid)
	}
	return nil
}

// newID returns a time-ordered job id (UUIDv7), which keeps inserts at
// the end of the jobs index.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func (q *RiverQueue) observeSubmit(source string, existing bool) {
	if q.opts.Observer != nil {
		q.opts.Observer.JobSubmitted(source, existing)
	}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// FeedSource is the source of a job that enriches a feed's new indicators
// (feeds: enrich: true); it runs behind every other job.
const FeedSource = "feed"

// insertOpts gives a feed's background job River's lowest priority, so
// alerts and API jobs queued after it still run first.
func insertOpts(s Spec) *river.InsertOpts {
	if s.Source == FeedSource {
		return &river.InsertOpts{Priority: 4}
	}
	return nil
}
