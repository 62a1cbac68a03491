// Package settings holds what every owner of a config section shares: the
// error for a key nobody claimed and the "did you mean" suggestion in it.
//
// Each section of iocane.yaml is loaded by the package it configures
// (score.LoadPolicy, enrich.LoadRouting, server.LoadConfig, ...), and that
// owner refuses the keys it does not know with an *UnknownKeyError. A
// misspelled key is a typo that would otherwise be silently ignored, so it is
// always an error, never a warning. This package imports nothing of iocane's,
// so that any owner can use it without importing config.
package settings

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UnknownKeyError is a configuration key that no owner claims.
type UnknownKeyError struct {
	// Key is the full dotted key, e.g. "scorng" or "providers.virustotal.rat".
	Key string
	// Source says where the key was given: the config file's path, or
	// "environment (IOCANE_...)". Empty until the config loader fills it.
	Source string
	// Suggestion is the nearest valid key, "" when none is close.
	Suggestion string
}

func (e *UnknownKeyError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s: unknown key", e.Key)
	if e.Suggestion != "" {
		fmt.Fprintf(&b, " (did you mean %s?)", e.Suggestion)
	}
	return b.String()
}

// Unknown returns an *UnknownKeyError for each of keys that is not in
// known, joined, or nil when every key is known. prefix ("scoring.") is put
// before each key and each suggestion.
func Unknown(prefix string, keys, known []string) error {
	var errs []error
	for _, k := range keys {
		if slices.Contains(known, k) {
			continue
		}
		e := &UnknownKeyError{Key: prefix + k}
		if s := Nearest(k, known); s != "" {
			e.Suggestion = prefix + s
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// UnknownKeys returns every *UnknownKeyError inside err (a joined or
// wrapped error), so that a loader can fill in their Source.
func UnknownKeys(err error) []*UnknownKeyError {
	var out []*UnknownKeyError
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *UnknownKeyError:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// Nearest returns the candidate closest to key when it is close enough to
// be the key that was meant (an edit distance of at most a third of the
// key's length, and at least one edit allowed), else "". Ties go to the
// first candidate in order.
func Nearest(key string, candidates []string) string {
	best, bestD := "", -1
	limit := max(1, len(key)/3)
	for _, c := range candidates {
		d := distance(strings.ToLower(key), strings.ToLower(c))
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b, in
// bytes: Levenshtein's insertions, deletions and substitutions, plus the
// swap of two neighbours, the commonest typo ("tpl" for "tlp").
func distance(a, b string) int {
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		pp, prev, cur := rows[(i+1)%3], rows[(i+2)%3], rows[i%3] // rows i-2, i-1, i
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
	}
	return rows[len(a)%3][len(b)]
}

// Wrap returns err with prefix before its message, or nil for a nil err.
// Unlike fmt.Errorf, the message is made when it is printed, so the Source
// a loader fills in later still shows.
func Wrap(prefix string, err error) error {
	if err == nil {
		return nil
	}
	return &wrapped{prefix, err}
}

type wrapped struct {
	prefix string
	err    error
}

func (w *wrapped) Error() string { return w.prefix + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// ParseLength reads a length of time as the config writes them: a whole
// number of days ("7d") or weeks ("2w"), or a Go duration ("36h"). It
// sets no bounds; each caller checks its own.
func ParseLength(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a length such as 7d, 2w or 36h", s)
	if strings.HasSuffix(s, "d") || strings.HasSuffix(s, "w") {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil {
			return 0, bad
		}
		d := time.Duration(n) * 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			d *= 7
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	return d, nil
}
