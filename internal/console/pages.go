package console

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// pages are the parsed templates, one set per page, each with the layout.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	names, err := fs.Glob(files, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	p := pages{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".tmpl")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(files, "templates/layout.tmpl", n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", base, err)
		}
		p[base] = t
	}
	return p, nil
}

// view is what every page's layout reads.
type view struct {
	Title   string
	Nav     string // the current section, for aria-current
	Session *session
	Data    any
}

// render writes page name with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	c.execute(w, r, status, name, "layout", v)
}

// execute writes template block of page name, buffered so that a template
// error is a clean 500 and never half a page. Every page exists (parsed
// at New), so a missing one is a programming error, answered 500 too.
func (c *Console) execute(w http.ResponseWriter, r *http.Request, status int, name, block string, data any) {
	var buf bytes.Buffer
	t, ok := c.pages[name]
	if !ok {
		c.o.Logger.Error("console: no template", "page", name)
		http.Error(w, "console: page missing", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		c.o.Logger.Error("console: render", "page", name, "block", block, "error", err)
		http.Error(w, "console: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	send(w, r, status, buf.Bytes())
}

// send writes a page, gzip-compressed for a browser that takes it.
func send(w http.ResponseWriter, r *http.Request, status int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "Accept-Encoding")
	if len(page) < 1024 || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.WriteHeader(status)
		w.Write(page)
		return
	}
	h.Set("Content-Encoding", "gzip")
	w.WriteHeader(status)
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	zw.Write(page)
	zw.Close()
}

// fragment writes one named template of a page, for htmx to swap in.
func (c *Console) fragment(w http.ResponseWriter, r *http.Request, name, block string, data any) {
	c.execute(w, r, http.StatusOK, name, block, data)
}

// fail renders the error page with a message that says what to do.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s, _ := c.sessions.get(r)
	c.render(w, r, status, "error", view{Title: http.StatusText(status), Session: s, Data: msg})
}

// need admits a request with a live session whose token has scope and is
// within its rate; without a session it goes to sign-in.
func (c *Console) need(scope string, h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.sessions.get(r)
		if !ok {
			if r.Header.Get("HX-Request") == "true" {
				// htmx follows this to the sign-in page.
				w.Header().Set("HX-Redirect", "/ui/login")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !s.can(scope) {
			c.fail(w, r, http.StatusForbidden, fmt.Sprintf("Your token %q does not have the %s scope this page needs. Sign in with a token that has it.", s.who.Name, scope))
			return
		}
		if d := c.o.Allow(s.who.Name); d > 0 {
			secs := max(1, int(math.Ceil(d.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			c.fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("Your token %q is over its request rate. Wait %d seconds and reload.", s.who.Name, secs))
			return
		}
		h(w, r, s)
	})
}

// validNext keeps a sign-in's return path on the console itself.
func validNext(p string) bool {
	return strings.HasPrefix(p, "/ui/") && !strings.ContainsAny(p, "\\\r\n")
}

func (c *Console) handleHome(w http.ResponseWriter, r *http.Request) {
	s, ok := c.sessions.get(r)
	switch {
	case !ok:
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	case s.can(ScopeIngest):
		http.Redirect(w, r, "/ui/enrich", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/ui/jobs", http.StatusSeeOther)
	}
}

type loginData struct {
	Next, Error string
}

func (c *Console) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", view{Title: "Sign in", Data: loginData{Next: r.URL.Query().Get("next")}})
}

func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !c.login.Allow() {
		w.Header().Set("Retry-After", "1")
		c.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Sign in", Data: loginData{Error: "Too many sign-in attempts. Wait a second and try again."}})
		return
	}
	if err := r.ParseForm(); err != nil {
		c.render(w, r, http.StatusBadRequest, "login", view{Title: "Sign in", Data: loginData{Error: "The form could not be read. Try again."}})
		return
	}
	next := r.PostForm.Get("next")
	who, ok := c.o.Auth(strings.TrimSpace(r.PostForm.Get("token")))
	if !ok {
		c.o.Logger.Info("console: sign-in refused", "remote", r.RemoteAddr)
		c.render(w, r, http.StatusUnauthorized, "login", view{Title: "Sign in", Data: loginData{Next: next,
			Error: "That token is not known to this server. Paste an API token (IOCANE_ADMIN_TOKEN or one of server.tokens)."}})
		return
	}
	s := c.sessions.start(who, c.o.SessionTTL)
	setCookie(w, r, s.id, s.expires)
	c.o.Logger.Info("console: signed in", "token", who.Name)
	if !validNext(next) {
		next = "/ui/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request) {
	if s, ok := c.sessions.get(r); ok {
		c.sessions.end(s.id)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
