package input

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
)

// mailHeaders are header names that mark the start of an e-mail.
var mailHeaders = []string{
	"received", "return-path", "from", "to", "subject", "date", "message-id", "mime-version",
	"delivered-to", "reply-to", "x-mailer", "content-type", "arc-seal", "dkim-signature",
	"authentication-results", "x-original-to", "sender", "cc",
}

// Detect guesses an input's format from its name and its first bytes:
// .eml and .csv/.tsv by extension; JSON by content, then STIX (a "bundle"
// or "spec_version") or MISP ("Event" or "Attribute") by its members; an
// e-mail by its leading header lines; anything else is text. Binary or
// invalid UTF-8 input is text and is scanned best effort.
func Detect(head []byte, name string) Format {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".eml", ".msg.eml", ".mbox":
		return EML
	case ".csv", ".tsv":
		return CSV
	case ".stix", ".stix2":
		return STIX
	}
	h := bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")))
	if len(h) > 0 && (h[0] == '{' || h[0] == '[') && looksJSON(h) {
		switch {
		case hasMember(h, "type", "bundle") || bytes.Contains(h, []byte(`"spec_version"`)) && bytes.Contains(h, []byte(`--`)):
			return STIX
		case bytes.Contains(h, []byte(`"Event"`)) || bytes.Contains(h, []byte(`"Attribute"`)):
			return MISP
		}
		return JSON
	}
	if ext == ".json" || ext == ".jsonl" || ext == ".ndjson" {
		return JSON
	}
	if looksMail(h) {
		return EML
	}
	return Text
}

var jsonScalar = regexp.MustCompile(`^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null)$`)

// looksJSON rejects text that merely starts with a bracket, such as
// "[2024-01-01] connection from ...".
func looksJSON(h []byte) bool {
	i := 1
	for i < len(h) && (h[i] == ' ' || h[i] == '\n' || h[i] == '\r' || h[i] == '\t') {
		i++
	}
	if i >= len(h) {
		return true
	}
	switch c := h[i]; {
	case c == '"' || c == '{' || c == '[' || c == '}' || c == ']':
		return true
	case h[0] == '[':
		// [1, 2] is JSON; [2024-01-01 12:00] is a log line.
		j := i
		for j < len(h) && !(h[j] == ',' || h[j] == ']' || h[j] == ' ' || h[j] == '\n' || h[j] == '\r' || h[j] == '\t') {
			j++
		}
		return j < len(h) && jsonScalar.Match(h[i:j])
	}
	return false
}

// hasMember reports whether h contains "key": "value" (spacing allowed).
func hasMember(h []byte, key, value string) bool {
	k := []byte(`"` + key + `"`)
	for off := 0; ; {
		i := bytes.Index(h[off:], k)
		if i < 0 {
			return false
		}
		rest := bytes.TrimLeft(h[off+i+len(k):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
			if bytes.HasPrefix(rest, []byte(`"`+value+`"`)) {
				return true
			}
		}
		off += i + len(k)
	}
}

// looksMail reports whether h starts with RFC 5322 header lines, at least
// two of them, one a header every mail has.
func looksMail(h []byte) bool {
	lines := 0
	known := false
	for len(h) > 0 && lines < 40 {
		line, rest, _ := bytes.Cut(h, []byte{'\n'})
		h = rest
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // end of the header block
		}
		if line[0] == ' ' || line[0] == '\t' {
			if lines == 0 {
				return false
			}
			continue // folded
		}
		name, _, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			if lines == 0 && bytes.HasPrefix(line, []byte("From ")) {
				continue // mbox separator
			}
			return false
		}
		lines++
		n := strings.ToLower(string(name))
		for _, m := range mailHeaders {
			if n == m {
				known = true
			}
		}
	}
	return lines >= 2 && known
}
