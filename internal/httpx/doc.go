// Package httpx builds the one HTTP client every provider uses: a chain of
// RoundTrippers composed once, so that rate limits, quotas, retries, circuit
// breaking, size caps and timeouts behave the same for every source.
package httpx
