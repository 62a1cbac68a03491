package ratelimittest

import (
	"testing"

	"github.com/iocane/iocane/internal/ratelimit"
)

func TestMemoryQuotaStore(t *testing.T) { QuotaStore(t, ratelimit.NewMemoryStore(), "mem") }
