package jobs

// Listing for the console: jobs newest first, and one page of a job's
// results, filtered and sorted in the store so that a job of 10,000 IOCs
// opens at the cost of one page.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/iocane/iocane/internal/dbx"
	"github.com/iocane/iocane/internal/result"
)

// List returns limit jobs, newest first, after skipping offset, and how
// many jobs there are in all.
func (q *RiverQueue) List(ctx context.Context, offset, limit int) ([]Job, int, error) {
	var total int
	if err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM jobs`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("jobs: list: %w", err)
	}
	rows, err := q.r.QueryContext(ctx, q.dialect.Rebind(selectJob+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`), limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("jobs: list: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("jobs: list: %w", err)
		}
		out = append(out, j)
	}
	return out, total, rows.Err()
}

// ResultQuery selects one page of a job's results.
type ResultQuery struct {
	// Verdict and Type keep only results with that verdict or IOC type
	// ("" keeps all).
	Verdict result.Verdict
	Type    string
	// Worst sorts the worst verdict first (malicious, suspicious,
	// unknown, benign), then by IOC; otherwise by IOC type and value.
	Worst         bool
	Offset, Limit int
}

// ResultsPage returns job id, one page of its results, and how many match
// the query in all. It returns ErrNotFound for an unknown job.
func (q *RiverQueue) ResultsPage(ctx context.Context, id string, rq ResultQuery) (Job, []result.Result, int, error) {
	j, err := q.Get(ctx, id)
	if err != nil {
		return Job{}, nil, 0, err
	}
	rs, total, err := q.resultsPage(ctx, id, rq)
	return j, rs, total, err
}

// resultsPage reads the page ResultsPage returns.
func (q *RiverQueue) resultsPage(ctx context.Context, id string, rq ResultQuery) ([]result.Result, int, error) {
	where, args := []string{"job_id = ?"}, []any{id}
	if rq.Verdict != "" {
		where, args = append(where, "verdict = ?"), append(args, string(rq.Verdict))
	}
	if rq.Type != "" {
		where, args = append(where, "type = ?"), append(args, rq.Type)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.r.QueryRowContext(ctx, q.dialect.Rebind(`SELECT count(*) FROM job_results WHERE `+cond), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("jobs: results %s: %w", id, err)
	}
	order := "type, value"
	if rq.Worst {
		order = "CASE verdict WHEN 'malicious' THEN 0 WHEN 'suspicious' THEN 1 WHEN 'unknown' THEN 2 ELSE 3 END, type, value"
	}
	// The page's keys are sorted first, without the results, which are
	// then read for that page alone: sorting 10,000 rows with their
	// results moved every result.
	page := `WITH page AS (SELECT type, value, row_number() OVER () AS n FROM
		(SELECT type, value FROM job_results WHERE ` + cond + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?))`
	if q.dialect == dbx.Postgres {
		// PostgreSQL wants the subquery named, and keeps a subquery's
		// order for row_number() only when told it.
		page = `WITH page AS (SELECT type, value, row_number() OVER (ORDER BY ` + order + `) AS n FROM job_results
			WHERE ` + cond + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?)`
	}
	rows, err := q.r.QueryContext(ctx, q.dialect.Rebind(page+`
		SELECT r.result FROM page JOIN job_results r ON r.job_id = ? AND r.type = page.type AND r.value = page.value ORDER BY page.n`),
		append(args, rq.Limit, max(rq.Offset, 0), id)...)
	if err != nil {
		return nil, 0, fmt.Errorf("jobs: results %s: %w", id, err)
	}
	defer rows.Close()
	var out []result.Result
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, 0, fmt.Errorf("jobs: results %s: %w", id, err)
		}
		var r result.Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, 0, fmt.Errorf("jobs: corrupt result in job %s: %w", id, err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}
