package integrationstest

// TheHive 5: alerts, cases, their observables and comments.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Observable is an observable the fake TheHive holds.
type Observable struct {
	ID       string   `json:"_id"`
	DataType string   `json:"dataType"`
	Data     string   `json:"data"`
	Message  string   `json:"message"`
	TLP      int      `json:"tlp"`
	PAP      int      `json:"pap"`
	Tags     []string `json:"tags"`
	IOC      bool     `json:"ioc"`
}

// Comment is a comment the fake TheHive holds.
type Comment struct {
	ID      string `json:"_id"`
	Message string `json:"message"`
}

// TheHive is a fake TheHive 5: GET /api/v1/alert/{id}, POST
// /api/v1/{alert,case}/{id}/observable (an existing dataType+data answers
// 400 "Observable already exists", as TheHive does) and .../comment.
type TheHive struct {
	*Fake
	// Alerts maps an alert id to the case it was imported into ("" for none).
	Alerts map[string]string
	obs    map[string][]Observable // by "alert/<id>" or "case/<id>"
	notes  map[string][]Comment
	n      int
}

// NewTheHive starts a fake TheHive accepting the API key token; alerts
// maps the alert ids it knows to their case id ("" when not imported).
func NewTheHive(token string, alerts map[string]string) *TheHive {
	t := &TheHive{Alerts: alerts, obs: map[string][]Observable{}, notes: map[string][]Comment{}}
	t.Fake = newFake(token, bearer, t.handle)
	return t
}

// Observables returns the observables on "alert/<id>" or "case/<id>".
func (t *TheHive) Observables(target string) []Observable {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Observable(nil), t.obs[target]...)
}

// Comments returns the comments on "alert/<id>" or "case/<id>".
func (t *TheHive) Comments(target string) []Comment {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Comment(nil), t.notes[target]...)
}

// AddObservable puts an observable on a target, as the SIEM's alert had it.
func (t *TheHive) AddObservable(target string, o Observable) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.obs[target] = append(t.obs[target], o)
}

func (t *TheHive) handle(_ *Fake, r Request, w http.ResponseWriter) {
	parts := strings.Split(strings.TrimPrefix(r.Path, "/api/v1/"), "/")
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "alert":
		caseID, ok := t.Alerts[parts[1]]
		if !ok {
			writeJSON(w, 404, map[string]string{"type": "NotFoundError", "message": "Alert " + parts[1] + " not found"})
			return
		}
		a := map[string]any{"_id": parts[1], "_type": "Alert", "title": "fake alert", "status": "New"}
		if caseID != "" {
			a["caseId"] = caseID
			a["status"] = "Imported"
		}
		writeJSON(w, 200, a)
	case r.Method == http.MethodPost && len(parts) == 3 && (parts[0] == "alert" || parts[0] == "case") && parts[2] == "observable":
		var o Observable
		if err := json.Unmarshal(r.Body, &o); err != nil || o.DataType == "" || o.Data == "" {
			writeJSON(w, 400, map[string]string{"type": "BadRequest", "message": "Invalid json"})
			return
		}
		key := parts[0] + "/" + parts[1]
		for _, e := range t.obs[key] {
			if e.DataType == o.DataType && e.Data == o.Data {
				writeJSON(w, 400, map[string]string{"type": "CreateError", "message": "Observable already exists"})
				return
			}
		}
		t.n++
		o.ID = fmt.Sprintf("~%d", 8000+t.n)
		t.obs[key] = append(t.obs[key], o)
		writeJSON(w, 201, []Observable{o})
	case r.Method == http.MethodPost && len(parts) == 3 && (parts[0] == "alert" || parts[0] == "case") && parts[2] == "comment":
		var c Comment
		if err := json.Unmarshal(r.Body, &c); err != nil || c.Message == "" {
			writeJSON(w, 400, map[string]string{"type": "BadRequest", "message": "Invalid json"})
			return
		}
		t.n++
		c.ID = fmt.Sprintf("~%d", 9000+t.n)
		key := parts[0] + "/" + parts[1]
		t.notes[key] = append(t.notes[key], c)
		writeJSON(w, 201, c)
	default:
		writeJSON(w, 404, map[string]string{"type": "NotFoundError", "message": "no route " + r.Method + " " + r.Path})
	}
}
