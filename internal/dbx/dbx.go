// Package dbx is what the store and the job queue share to speak to either
// backend with one set of SQL: the dialect, and the rewriting of the ?
// placeholders that SQLite takes into PostgreSQL's $1, $2, ….
package dbx

import (
	"strconv"
	"strings"
)

// Dialect is the SQL backend a statement is written for.
type Dialect int

const (
	// SQLite is the embedded store (modernc.org/sqlite).
	SQLite Dialect = iota
	// Postgres is PostgreSQL through pgx.
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Rebind rewrites q's ? placeholders for d: unchanged for SQLite, $1, $2,
// … for PostgreSQL. A ? inside a quoted string or identifier is left
// alone.
func (d Dialect) Rebind(q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
