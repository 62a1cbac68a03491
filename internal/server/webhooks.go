package server

import (
	"strconv"

	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/iocane/iocane/internal/enrich"
	"net/http"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/tlp"
)

// alert is what a webhook parser makes of a SIEM's payload.
type alert struct {
	ref jobs.AlertRef
	// input is the part of the payload to extract IOCs from: the alert's
	// data, without the SIEM's own links (which would otherwise be enriched).
	input []byte
	// tlp is the payload's own marking, "" when it has none.
	tlp string
	// key is the idempotency key the SIEM's ids give, "" when none.
	key string
}

// errPayload is a payload that is JSON but not what the kind sends.
type errPayload struct{ msg string }

func (e errPayload) Error() string { return e.msg }

// webhookParsers reads each SIEM's payload.
var webhookParsers = map[string]func(body map[string]any, r *http.Request) (alert, error){
	"splunk":  parseSplunk,
	"elastic": parseElastic,
	"thehive": parseTheHive,
	"generic": parseGeneric,
}

// WebhookKinds lists the webhook kinds, sorted.
func WebhookKinds() []string {
	var out []string
	for k := range webhookParsers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

const webhookJSON = "the SIEM's alert as a JSON object (Content-Type: application/json)"

// handleWebhook accepts a SIEM alert: it checks the signature, reads the
// alert reference and stores a job, answering 202 without enriching.
func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	parse, ok := webhookParsers[kind]
	if !ok {
		writeProblem(w, r, http.StatusNotFound, probUnknownWebhook,
			fmt.Sprintf("unknown webhook kind %q: use one of %s", kind, strings.Join(WebhookKinds(), ", ")))
		return
	}
	mt, err := mediaType(r)
	if err != nil || !isJSONType(mt) {
		writeProblem(w, r, http.StatusUnsupportedMediaType, probMediaType,
			fmt.Sprintf("webhooks take JSON: send Content-Type: application/json (got %q)", r.Header.Get("Content-Type")))
		return
	}
	body, raw, ok := s.readBody(w, r)
	if !ok {
		return
	}
	if s.verifier != nil {
		sig, until, err := s.verifier.verify(r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), raw, s.o.Now())
		if err == nil && s.o.Replays != nil {
			// The signatures seen before a restart are in the store.
			seen, rerr := s.o.Replays.Replayed(r.Context(), sig, until)
			if rerr != nil {
				s.o.Logger.Error("webhook signature not recorded", "request_id", requestID(r.Context()), "error", rerr)
				writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the delivery could not be checked against replays: retry later")
				return
			}
			if seen {
				err = errReplayed
			}
		}
		if err != nil {
			slug := probBadSignature
			if errors.Is(err, errReplayed) {
				slug = probReplay
			}
			writeProblem(w, r, http.StatusUnauthorized, slug, err.Error())
			return
		}
	}
	if !checkDepth(w, r, body) {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		jsonProblem(w, r, err, webhookJSON)
		return
	}
	if dec.More() {
		jsonProblem(w, r, errors.New("trailing data after the JSON document"), webhookJSON)
		return
	}
	obj, isObj := doc.(map[string]any)
	if !isObj {
		writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable, "the body is JSON but not an object: send "+webhookJSON)
		return
	}
	a, err := parse(obj, r)
	if err != nil {
		writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable, err.Error())
		return
	}
	a.ref.System = kind
	level := s.o.DefaultTLP
	for _, m := range []string{a.tlp, r.URL.Query().Get("tlp")} {
		if m != "" {
			if l, _ := tlp.Parse(m); l > level {
				level = l // the stricter marking wins; an unknown one is red
			}
		}
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" && a.key != "" {
		key = kind + ":" + a.key
	}
	pivot, pap, ok := pivotParams(w, r, s.o.WebhookPivot, papOf(obj))
	if !ok {
		return
	}
	s.metrics.alert(kind)
	s.submit(w, r, jobs.Spec{
		IdempotencyKey: key, Source: kind, Alert: &a.ref,
		InputFormat: string(input.JSON), Input: a.input, TLP: level.String(),
		Providers: splitList(r.URL.Query().Get("providers")), Pivot: pivot, PAP: pap,
	})
}

// get returns the value at a dotted path, trying a flattened key first
// ("kibana.alert.uuid" as one member) and then nested objects.
func get(m map[string]any, path string) any {
	if v, ok := m[path]; ok {
		return v
	}
	head, rest, found := strings.Cut(path, ".")
	if !found {
		return nil
	}
	sub, ok := m[head].(map[string]any)
	if !ok {
		return nil
	}
	return get(sub, rest)
}

// str returns the first non-empty string or number at any of the paths.
func str(m map[string]any, paths ...string) string {
	for _, p := range paths {
		switch v := get(m, p).(type) {
		case string:
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		case json.Number:
			return v.String()
		}
	}
	return ""
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// parseSplunk reads Splunk's webhook alert action: {"result": {...first
// result row...}, "sid", "search_name", "results_link", "app", "owner"}.
// The id is the search id; with per-result alerting one search can send
// several results, so the key also hashes the result.
func parseSplunk(m map[string]any, _ *http.Request) (alert, error) {
	res, ok := m["result"].(map[string]any)
	if !ok {
		return alert{}, errPayload{`a Splunk webhook carries the first result row as a "result" object: configure the Splunk alert's "Webhook" action to post to this URL`}
	}
	in := marshal(res)
	a := alert{input: in, tlp: marking(res, m)}
	a.ref = jobs.AlertRef{ID: str(m, "sid"), Link: str(m, "results_link"), Extra: extra(m, "search_name", "app", "owner")}
	if a.ref.ID != "" {
		sum := sha256.Sum256(in)
		a.key = a.ref.ID + ":" + hex.EncodeToString(sum[:8])
	}
	return a, nil
}

// Elastic payload members that link back to Kibana: kept in the alert
// reference, never enriched.
var elasticLinks = []string{"link", "alert_url", "rule_url", "kibana_url"}

// parseElastic reads what a Kibana webhook connector sends: whatever JSON
// the rule action's template makes. The recommended template (README) has
// alert_id, rule_id, rule_name, link and the alerts; raw alert documents
// (kibana.alert.* fields) are understood too.
func parseElastic(m map[string]any, _ *http.Request) (alert, error) {
	a := alert{}
	a.ref.ID = str(m, "alert_id", "alert.uuid", "alert.id", "kibana.alert.uuid", "id", "_id")
	a.ref.Link = str(m, "link", "alert_url", "rule.url", "kibana.alert.url", "rule_url")
	a.ref.Extra = map[string]string{}
	for k, paths := range map[string][]string{
		"rule_name": {"rule_name", "rule.name", "kibana.alert.rule.name"},
		"rule_id":   {"rule_id", "rule.id", "kibana.alert.rule.uuid"},
	} {
		if v := str(m, paths...); v != "" {
			a.ref.Extra[k] = v
		}
	}
	if len(a.ref.Extra) == 0 {
		a.ref.Extra = nil
	}
	if a.ref.ID == "" && a.ref.Extra == nil {
		return alert{}, errPayload{`no alert id or rule in this Elastic payload: use the recommended action template, with "alert_id": "{{alert.uuid}}" and "rule_name": "{{rule.name}}" (see the README)`}
	}
	data := make(map[string]any, len(m))
	for k, v := range m {
		if !slices.Contains(elasticLinks, k) {
			data[k] = v
		}
	}
	if rule, ok := data["rule"].(map[string]any); ok {
		rc := make(map[string]any, len(rule))
		for k, v := range rule {
			if k != "url" {
				rc[k] = v
			}
		}
		data["rule"] = rc
	}
	a.input, a.tlp, a.key = marshal(data), marking(m), a.ref.ID
	return a, nil
}

// theHiveTLP maps TheHive's numeric TLP (0 white/clear, 1 green, 2 amber,
// 3 red, 4 amber+strict).
var theHiveTLP = map[string]tlp.Level{"0": tlp.Clear, "1": tlp.Green, "2": tlp.Amber, "3": tlp.Red, "4": tlp.AmberStrict}

// marking returns the strictest TLP marking among the members of objs named
// "tlp" in any case ("tlp", "TLP", "Tlp"), as a level name, or "" when
// none has one. A marking may be a name in any case, with or without its
// "TLP:" prefix ("TLP:RED", "red", "amber+strict"), or one of TheHive's
// numbers; anything else present is red, as policy reads an unknown
// marking. SIEMs spell the key as they like, and a RED alert read as
// unmarked would go to every third-party provider.
func marking(objs ...map[string]any) string {
	found, strictest := false, tlp.Clear
	for _, o := range objs {
		for k, v := range o {
			if !strings.EqualFold(k, "tlp") || v == nil {
				continue
			}
			l := tlp.Red
			switch v := v.(type) {
			case string:
				if n, ok := theHiveTLP[strings.TrimSpace(v)]; ok {
					l = n
				} else if strings.TrimSpace(v) == "" {
					continue
				} else {
					l, _ = tlp.Parse(v)
				}
			case json.Number:
				if n, ok := theHiveTLP[v.String()]; ok {
					l = n
				}
			}
			found, strictest = true, max(strictest, l)
		}
	}
	if !found {
		return ""
	}
	return strictest.String()
}

// parseTheHive reads a TheHive 5 webhook notification for a created alert:
// {"objectType": "Alert", "operation": "create", "object": {"_id",
// "sourceRef", "title", "description", "tlp", "observables" or
// "artifacts"}}.
func parseTheHive(m map[string]any, _ *http.Request) (alert, error) {
	if ot := str(m, "objectType"); !strings.EqualFold(ot, "alert") {
		return alert{}, errPayload{fmt.Sprintf("objectType is %q: only alert events are enriched; trigger the TheHive notification on AlertCreated", ot)}
	}
	if op := strings.ToLower(str(m, "operation")); op != "create" && op != "creation" {
		return alert{}, errPayload{fmt.Sprintf("operation is %q: only alert creation is enriched; trigger the TheHive notification on AlertCreated", op)}
	}
	obj, ok := m["object"].(map[string]any)
	if !ok {
		return alert{}, errPayload{`a TheHive alert event carries the alert as an "object": is this a TheHive 5 webhook notification?`}
	}
	a := alert{}
	a.ref.ID = str(obj, "_id", "id")
	if a.ref.ID == "" {
		a.ref.ID = str(m, "objectId")
	}
	a.ref.Extra = extra(obj, "sourceRef", "source", "title", "type")
	data := map[string]any{}
	for _, k := range []string{"title", "description", "observables", "artifacts", "summary"} {
		if v, ok := obj[k]; ok {
			data[k] = v
		}
	}
	a.input, a.key, a.tlp = marshal(data), a.ref.ID, marking(obj, m)
	return a, nil
}

// parseGeneric takes any JSON object; the alert id comes from ?id=, the
// X-Alert-Id header or an "id" member, the link from ?link=.
func parseGeneric(m map[string]any, r *http.Request) (alert, error) {
	q := r.URL.Query()
	id := q.Get("id")
	if id == "" {
		id = r.Header.Get("X-Alert-Id")
	}
	if id == "" {
		id = str(m, "id", "alert_id")
	}
	a := alert{input: marshal(m), tlp: marking(m)}
	a.ref = jobs.AlertRef{ID: id, Link: q.Get("link"), Extra: extra(m, "container_id", "incident_id")}
	// A SOAR's own ids (Splunk SOAR container, XSOAR incident), from the
	// query or the body, tell the write-back where to go.
	for _, k := range []string{"container_id", "incident_id"} {
		if v := q.Get(k); v != "" {
			if a.ref.Extra == nil {
				a.ref.Extra = map[string]string{}
			}
			a.ref.Extra[k] = v
		}
	}
	a.key = id
	return a, nil
}

// extra copies the string members named from m.
func extra(m map[string]any, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v := str(m, k); v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// papOf reads an alert's own PAP marking: TheHive's "pap" (0 WHITE to 3
// RED), at the top or under "object" (TheHive 5 webhooks); "" when none.
func papOf(m map[string]any) string {
	for _, path := range []string{"pap", "object.pap"} {
		if v := get(m, path); v != nil {
			return strings.TrimSpace(fmt.Sprint(v))
		}
	}
	return ""
}

// pivotParams reads ?pivot= (default def) and the PAP: ?pap=, else the
// body's, else GREEN; the stricter of the query's and the body's wins.
// It answers 400 itself for a bad value.
func pivotParams(w http.ResponseWriter, r *http.Request, def int, bodyPAP string) (int, string, bool) {
	q := r.URL.Query()
	depth := def
	if v := q.Get("pivot"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > enrich.MaxPivot {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest, fmt.Sprintf("?pivot=%q: want 0 to %d", v, enrich.MaxPivot))
			return 0, "", false
		}
		depth = n
	}
	pap := tlp.Green
	for _, v := range []string{bodyPAP, q.Get("pap")} {
		if v == "" {
			continue
		}
		l, err := enrich.ParsePAP(v)
		if err != nil {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest, "pap: "+err.Error())
			return 0, "", false
		}
		pap = max(pap, l)
	}
	return depth, pap.String(), true
}
