package console

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"sync"
	"time"
)

// CookieName is the session cookie.
const CookieName = "iocane_session"

// maxDrafts is how many previewed inputs a session keeps for a later run.
const maxDrafts = 8

// session is one signed-in browser, kept server-side: the cookie holds a
// random id and nothing else.
type session struct {
	id      string
	who     Identity
	expires time.Time
	drafts  map[string]draft
	order   []string // draft ids, oldest first
}

// draft is an input previewed and not run yet.
type draft struct {
	input    []byte
	filename string
	format   string
}

// can reports whether the session's token has scope (admin has all).
func (s *session) can(scope string) bool {
	return slices.Contains(s.who.Scopes, scope) || slices.Contains(s.who.Scopes, ScopeAdmin)
}

// Name is the signed-in token's name.
func (s *session) Name() string { return s.who.Name }

// sessions holds the live sessions of this process. A fleet behind a load
// balancer needs sticky sessions for the console (docs/deploy).
type sessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[string]*session{}}
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// start makes a session for who, lasting ttl, and drops expired ones.
func (ss *sessions) start(who Identity, ttl time.Duration) *session {
	now := ss.now()
	s := &session{id: randomID(), who: who, expires: now.Add(ttl), drafts: map[string]draft{}}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, o := range ss.m {
		if !now.Before(o.expires) {
			delete(ss.m, id)
		}
	}
	ss.m[s.id] = s
	return s
}

// get returns the live session of the request's cookie.
func (ss *sessions) get(r *http.Request) (*session, bool) {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil, false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[ck.Value]
	if !ok {
		return nil, false
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, s.id)
		return nil, false
	}
	return s, true
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// keep stores d in s for a later run and returns its id; the oldest draft
// goes when there are too many.
func (ss *sessions) keep(s *session, d draft) string {
	id := randomID()[:16]
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(s.order) >= maxDrafts {
		delete(s.drafts, s.order[0])
		s.order = s.order[1:]
	}
	s.drafts[id] = d
	s.order = append(s.order, id)
	return id
}

func (ss *sessions) draft(s *session, id string) (draft, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	d, ok := s.drafts[id]
	return d, ok
}

// setCookie sends the session cookie: HttpOnly, SameSite=Strict, Secure
// over TLS, scoped to /ui/.
func setCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: "/ui/", Expires: expires,
		MaxAge: max(int(time.Until(expires).Seconds()), -1), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}
