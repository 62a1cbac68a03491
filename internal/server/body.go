package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/input"
)

// readBody reads the whole request body within MaxBody and decodes its
// Content-Encoding (gzip, within MaxBody decompressed), answering 413 for
// too large, 415 for an encoding it cannot read and 400 for empty itself.
// raw is the body as sent, which a signature covers.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (body, raw []byte, ok bool) {
	raw, ok = s.readRaw(w, r)
	if !ok {
		return nil, nil, false
	}
	body = raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			body, err = io.ReadAll(io.LimitReader(zr, s.o.MaxBody+1))
		}
		if err != nil {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest, "the body is sent as gzip but does not decompress: "+err.Error())
			return nil, nil, false
		}
		if int64(len(body)) > s.o.MaxBody {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, probTooLarge,
				fmt.Sprintf("the body decompresses to more than the limit of %d bytes (%s): split the input, or raise server.max_body", s.o.MaxBody, humanBytes(s.o.MaxBody)))
			return nil, nil, false
		}
	default:
		writeProblem(w, r, http.StatusUnsupportedMediaType, probMediaType,
			fmt.Sprintf("cannot read a body with Content-Encoding %q: send it as is or gzip", enc))
		return nil, nil, false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeProblem(w, r, http.StatusBadRequest, probEmptyBody, "the body is empty: send the IOCs or the alert in the request body")
		return nil, nil, false
	}
	return body, raw, true
}

// readRaw reads the body as sent, within MaxBody.
func (s *Server) readRaw(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	limit := fmt.Sprintf("%d bytes (%s)", s.o.MaxBody, humanBytes(s.o.MaxBody))
	if r.ContentLength > s.o.MaxBody {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, probTooLarge,
			fmt.Sprintf("the body is %d bytes, over the limit of %s: split the input into several requests, or raise server.max_body", r.ContentLength, limit))
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, probTooLarge,
				"the body is over the limit of "+limit+": split the input into several requests, or raise server.max_body")
			return nil, false
		}
		writeProblem(w, r, http.StatusBadRequest, probBadRequest, "the body could not be read: "+err.Error())
		return nil, false
	}
	return b, true
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// mediaType returns the request's media type, lower case, "" when absent.
func mediaType(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	return strings.ToLower(mt), err
}

// isJSONType reports whether mt is application/json or application/*+json.
func isJSONType(mt string) bool {
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// acceptedTypes is told to a client whose Content-Type the server does not read.
const acceptedTypes = "application/json, application/stix+json, text/plain, text/csv, message/rfc822 or application/octet-stream (or name the format with ?format=auto|text|json|eml|stix|misp|csv)"

// inputFormat picks the input format from ?format= or the Content-Type,
// answering 400 or 415 itself when neither is usable.
func inputFormat(w http.ResponseWriter, r *http.Request) (input.Format, string, bool) {
	mt, err := mediaType(r)
	if err != nil {
		writeProblem(w, r, http.StatusUnsupportedMediaType, probMediaType, "the Content-Type header does not parse: send "+acceptedTypes)
		return "", "", false
	}
	if q := r.URL.Query().Get("format"); q != "" {
		f, err := input.ParseFormat(q)
		if err != nil {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest, "?format: "+err.Error())
			return "", "", false
		}
		return f, mt, true
	}
	switch {
	case mt == "application/stix+json":
		return input.STIX, mt, true
	case isJSONType(mt):
		return input.Auto, mt, true // Detect tells a STIX bundle, a MISP event and an alert apart
	case mt == "text/plain":
		return input.Text, mt, true
	case mt == "text/csv":
		return input.CSV, mt, true
	case mt == "message/rfc822":
		return input.EML, mt, true
	case mt == "" || mt == "application/octet-stream":
		return input.Auto, mt, true
	}
	writeProblem(w, r, http.StatusUnsupportedMediaType, probMediaType, "cannot read a "+mt+" body: send "+acceptedTypes)
	return "", "", false
}

// jsonProblem explains a JSON decoding error with where it happened.
func jsonProblem(w http.ResponseWriter, r *http.Request, err error, want string) {
	detail := "the body is not valid JSON: " + err.Error()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		detail = fmt.Sprintf("the body is not valid JSON: %v at byte %d", se, se.Offset)
	case errors.As(err, &te):
		detail = fmt.Sprintf("the body's %q field should be %s, not a JSON %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		detail = "the body is not valid JSON: it ends early"
	}
	writeProblem(w, r, http.StatusBadRequest, probMalformedJSON, detail+": send "+want)
}

// checkJSON answers 400 when b is not one valid JSON document.
func checkJSON(w http.ResponseWriter, r *http.Request, b []byte, want string) bool {
	if json.Valid(b) {
		return checkDepth(w, r, b)
	}
	var v any
	err := json.Unmarshal(b, &v)
	if err == nil {
		err = errors.New("trailing data")
	}
	jsonProblem(w, r, err, want)
	return false
}

// checkDepth answers 422 itself when the JSON in b nests deeper than the
// JSON reader goes, so the body is refused now rather than accepted and
// then failed.
func checkDepth(w http.ResponseWriter, r *http.Request, b []byte) bool {
	if err := input.CheckJSONDepth(b); err != nil {
		writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable,
			fmt.Sprintf("the JSON is nested deeper than %d levels, more than iocane reads: flatten it", input.MaxJSONDepth))
		return false
	}
	return true
}
