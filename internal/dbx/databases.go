package dbx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrUnreachable wraps the error of a PostgreSQL server that does not
// answer.
var ErrUnreachable = errors.New("PostgreSQL is not answering")

// CreateDatabase creates an empty database named prefix plus a random
// suffix on the PostgreSQL server at serverURL and returns its URL (tests,
// fleetbench).
func CreateDatabase(ctx context.Context, serverURL, prefix string) (string, error) {
	c, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", fmt.Errorf("%w at %s: %v", ErrUnreachable, Redact(serverURL), err)
	}
	defer c.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, _ := url.Parse(serverURL)
	u.Path = "/" + name
	return u.String(), nil
}

// DropDatabase drops the database of dbURL, made by CreateDatabase on the
// server at serverURL, closing any connection still open to it.
func DropDatabase(ctx context.Context, serverURL, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	c, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, Redact(serverURL), err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()+" WITH (FORCE)")
	return err
}

// Redact returns a URL with its password hidden, for messages.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
