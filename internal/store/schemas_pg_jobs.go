package store

// JobsSchemaPostgres is jobsSchema for PostgreSQL, entry for entry (so a
// version means the same on both backends), with the same tables, columns
// in the same order, and indexes: BYTEA for BLOB, BIGINT for the Unix-ms
// times and counters, no WITHOUT ROWID. Migrate applies it after River's
// migrations and records how many ran in iocane_schema (component "jobs").
var JobsSchemaPostgres = []string{
	`CREATE TABLE jobs (
		id              TEXT PRIMARY KEY,
		idempotency_key TEXT UNIQUE,
		river_id        BIGINT,
		source          TEXT NOT NULL,
		alert           TEXT,
		spec            TEXT NOT NULL,
		input           BYTEA NOT NULL,
		state           TEXT NOT NULL,
		iocs            BIGINT NOT NULL DEFAULT 0,
		done            BIGINT NOT NULL DEFAULT 0,
		malicious       BIGINT NOT NULL DEFAULT 0,
		suspicious      BIGINT NOT NULL DEFAULT 0,
		benign          BIGINT NOT NULL DEFAULT 0,
		unknown         BIGINT NOT NULL DEFAULT 0,
		attempts        BIGINT NOT NULL DEFAULT 0,
		error           TEXT NOT NULL DEFAULT '',
		created_at      BIGINT NOT NULL,
		started_at      BIGINT,
		finished_at     BIGINT
	);
	CREATE INDEX jobs_state ON jobs (state);
	CREATE TABLE job_results (
		job_id  TEXT NOT NULL,
		type    TEXT NOT NULL,
		value   TEXT NOT NULL,
		verdict TEXT NOT NULL,
		result  BYTEA NOT NULL,
		PRIMARY KEY (job_id, type, value)
	);`,
	`CREATE TABLE deferred_lookups (
		job_id    TEXT NOT NULL,
		provider  TEXT NOT NULL,
		type      TEXT NOT NULL,
		value     TEXT NOT NULL,
		priority  BIGINT NOT NULL,
		due_at    BIGINT NOT NULL,
		queued_at BIGINT NOT NULL,
		PRIMARY KEY (job_id, provider, type, value)
	);
	CREATE INDEX deferred_lookups_due ON deferred_lookups (due_at, priority);
	CREATE INDEX deferred_lookups_ioc ON deferred_lookups (provider, type, value);`,
	`ALTER TABLE jobs ADD COLUMN input_encoding TEXT NOT NULL DEFAULT '';`,
	`CREATE INDEX jobs_created ON jobs (created_at);
	CREATE INDEX job_results_verdict ON job_results (job_id, verdict);`,
}
