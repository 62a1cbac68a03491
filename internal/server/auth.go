package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Scope is what a token may do.
type Scope string

// The scopes. Admin implies every other.
const (
	// ScopeIngest allows webhooks, job creation and synchronous enrichment.
	ScopeIngest Scope = "ingest"
	// ScopeRead allows reading jobs, results, stored IOCs, providers and metrics.
	ScopeRead Scope = "read"
	// ScopeTriage allows setting and removing analyst verdicts.
	ScopeTriage Scope = "triage"
	// ScopeAdmin allows everything, including purging the cache.
	ScopeAdmin Scope = "admin"
)

// AllScopes lists every scope, as the bootstrap admin token has them.
var AllScopes = []Scope{ScopeIngest, ScopeRead, ScopeTriage, ScopeAdmin}

// ParseScope reads a scope name.
func ParseScope(s string) (Scope, error) {
	sc := Scope(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(AllScopes, sc) {
		return "", fmt.Errorf("unknown scope %q (want ingest, read, triage or admin)", s)
	}
	return sc, nil
}

// Token is an API token as the server keeps it: a name for the logs, the
// SHA-256 of the secret (the secret itself is never kept), and its scopes.
type Token struct {
	Name   string
	SHA256 [sha256.Size]byte
	Scopes []Scope
}

// NewToken hashes secret into a Token.
func NewToken(name, secret string, scopes ...Scope) Token {
	return Token{Name: name, SHA256: sha256.Sum256([]byte(secret)), Scopes: scopes}
}

// TokenFromHash builds a Token from the hex SHA-256 of its secret, as
// `printf %s "$TOKEN" | sha256sum` prints it.
func TokenFromHash(name, hexSum string, scopes ...Scope) (Token, error) {
	b, err := hex.DecodeString(strings.TrimSpace(hexSum))
	if err != nil || len(b) != sha256.Size {
		return Token{}, fmt.Errorf("token %q: token_sha256 must be 64 hex digits (printf %%s \"$TOKEN\" | sha256sum)", name)
	}
	t := Token{Name: name, Scopes: scopes}
	copy(t.SHA256[:], b)
	return t, nil
}

// Allows reports whether t has scope s (admin has all).
func (t Token) Allows(s Scope) bool {
	return slices.Contains(t.Scopes, s) || slices.Contains(t.Scopes, ScopeAdmin)
}

// tokenSet finds the token a bearer secret belongs to.
type tokenSet []Token

// find hashes secret and compares it with every token in constant time,
// without stopping at a match, so timing tells nothing about which token
// or how much of it matched.
func (ts tokenSet) find(secret string) (Token, bool) {
	sum := sha256.Sum256([]byte(secret))
	var found Token
	ok := 0
	for _, t := range ts {
		if subtle.ConstantTimeCompare(sum[:], t.SHA256[:]) == 1 {
			found, ok = t, 1
		}
	}
	return found, ok == 1
}

// Signature headers: the sender puts the Unix time in seconds in
// X-Iocane-Timestamp and "sha256=" + hex(HMAC-SHA256(secret, timestamp +
// "." + raw body)) in X-Iocane-Signature.
const (
	HeaderTimestamp = "X-Iocane-Timestamp"
	HeaderSignature = "X-Iocane-Signature"
)

// Signature errors; each maps to a 401 with a detail saying what to fix.
var (
	errNoSignature  = errors.New("this server requires signed webhooks: send " + HeaderTimestamp + " (Unix seconds) and " + HeaderSignature + ": sha256=<hex HMAC-SHA256 of timestamp + \".\" + body>")
	errBadTimestamp = errors.New(HeaderTimestamp + " must be the Unix time in seconds")
	errStale        = errors.New(HeaderTimestamp + " is more than 5 minutes away from the server's clock: sign each request when sending it, and check the sender's clock")
	errBadSignature = errors.New(HeaderSignature + " does not match: sign timestamp + \".\" + the raw body with HMAC-SHA256 and the shared webhook secret, and send sha256=<hex>")
	errReplayed     = errors.New("this signature was already used: sign every delivery afresh (a new timestamp)")
)

// Sign returns the X-Iocane-Signature value for body at timestamp ts, for
// senders and tests.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// verifier checks webhook signatures and remembers the ones it accepted for
// twice the allowed clock skew, so a captured request cannot be replayed.
type verifier struct {
	secret []byte
	skew   time.Duration

	mu        sync.Mutex
	cur, prev map[string]struct{}
	rotated   time.Time
}

func newVerifier(secret []byte, skew time.Duration) *verifier {
	return &verifier{secret: secret, skew: skew, cur: map[string]struct{}{}, prev: map[string]struct{}{}}
}

// verify checks the headers against body at time now. It returns the
// signature and until when it could be replayed, for a durable check.
func (v *verifier) verify(ts, sig string, body []byte, now time.Time) (string, time.Time, error) {
	if ts == "" || sig == "" {
		return "", time.Time{}, errNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", time.Time{}, errBadTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > v.skew || d < -v.skew {
		return "", time.Time{}, errStale
	}
	want := Sign(v.secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(strings.TrimSpace(sig)))) {
		return "", time.Time{}, errBadSignature
	}
	return want, time.Unix(sec, 0).Add(v.skew), v.remember(want, now)
}

// remember records sig; a signature seen in the last two generations is a
// replay. Generations last 2×skew: a signature is accepted only within skew
// of its timestamp, so it is remembered for as long as it could be valid.
func (v *verifier) remember(sig string, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.rotated.IsZero() {
		v.rotated = now
	}
	switch age := now.Sub(v.rotated); {
	case age >= 4*v.skew:
		v.prev, v.cur, v.rotated = map[string]struct{}{}, map[string]struct{}{}, now
	case age >= 2*v.skew:
		v.prev, v.cur, v.rotated = v.cur, map[string]struct{}{}, now
	}
	if _, ok := v.cur[sig]; ok {
		return errReplayed
	}
	if _, ok := v.prev[sig]; ok {
		return errReplayed
	}
	v.cur[sig] = struct{}{}
	return nil
}
