package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestNewDatabase(t *testing.T) {
	u := NewDatabase(t)
	c, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var name string
	if err := c.QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil || name == "postgres" {
		t.Fatalf("database %q, %v", name, err)
	}
}
