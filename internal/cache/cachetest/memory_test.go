package cachetest

import (
	"testing"
	"time"

	"github.com/iocane/iocane/internal/cache"
)

func TestMemoryCache(t *testing.T) { Cache(t, cache.NewMemory(100), time.Now, "mem") }
