package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// maxDepth caps multipart nesting in a report's wrapper.
const maxDepth = 10

// maxParts caps the MIME parts read from one report.
const maxParts = 500

// Report is a reported message taken apart: who reported what, and the
// bytes to analyse.
type Report struct {
	// MessageID is the report's Message-ID without angle brackets, or
	// "sha256:<hex of the report's bytes>" when it has none.
	MessageID string
	// Reporter is the report's From address ("" when unparseable).
	Reporter string
	// Subject is the report's decoded Subject.
	Subject string
	// Original is what is analysed: the attached original message as
	// attached, or, for a plain forward, the forwarded body rebuilt
	// without the wrapper's headers and with the reporter's address
	// replaced by "[reporter]".
	Original []byte
	// Attached is true when Original is an attached message (a
	// message/rfc822 part or an .eml attachment).
	Attached bool
}

var wordDecoder = mime.WordDecoder{}

// Unwrap takes a reported message apart. It fails with ErrMalformed when
// the report or its attached original is not a MIME message, and with
// ErrUnsupported when the only attached original is an Outlook .msg file.
func Unwrap(raw []byte) (Report, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	r := Report{MessageID: messageID(msg.Header.Get("Message-Id"), raw)}
	if a, err := mail.ParseAddress(msg.Header.Get("From")); err == nil {
		r.Reporter = strings.ToLower(a.Address)
	}
	if s, err := wordDecoder.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		r.Subject = s
	} else {
		r.Subject = msg.Header.Get("Subject")
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	w := &walker{}
	if err := w.walk(textproto.MIMEHeader(msg.Header), body, 0); err != nil {
		return Report{}, err
	}
	switch {
	case w.original != nil:
		if _, err := mail.ReadMessage(bytes.NewReader(w.original)); err != nil {
			return Report{}, fmt.Errorf("%w: attached original: %v", ErrMalformed, err)
		}
		r.Original, r.Attached = w.original, true
	case w.msg:
		return Report{}, fmt.Errorf("%w: the original is attached as an Outlook .msg file; attach it as .eml or message/rfc822", ErrUnsupported)
	default:
		r.Original = forwarded(w.leaves, r.Reporter)
	}
	return r, nil
}

// messageID returns the Message-ID without brackets, or a hash of the
// bytes when there is none.
func messageID(h string, raw []byte) string {
	id := strings.TrimSpace(h)
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id = strings.TrimSpace(id); id != "" {
		return id
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// leaf is one non-multipart part of the wrapper, decoded.
type leaf struct {
	ct, disp string
	body     []byte
}

// walker looks through the wrapper for the attached original.
type walker struct {
	original []byte // the first attached message
	msg      bool   // an Outlook .msg attachment was seen
	leaves   []leaf
	parts    int
}

func (w *walker) walk(h textproto.MIMEHeader, body []byte, depth int) error {
	w.parts++
	if w.parts > maxParts {
		return fmt.Errorf("%w: more than %d MIME parts", ErrMalformed, maxParts)
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct, params = "text/plain", nil
	}
	ct = strings.ToLower(ct)
	if strings.HasPrefix(ct, "multipart/") {
		if depth >= maxDepth {
			return fmt.Errorf("%w: MIME nested deeper than %d levels", ErrMalformed, maxDepth)
		}
		if params["boundary"] == "" {
			return fmt.Errorf("%w: %s without a boundary", ErrMalformed, ct)
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			if err := w.walk(p.Header, b, depth+1); err != nil {
				return err
			}
		}
	}
	dec, derr := decodeTransfer(body, h.Get("Content-Transfer-Encoding"))
	_, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if n, err := wordDecoder.DecodeHeader(name); err == nil {
		name = n
	}
	name = strings.ToLower(strings.TrimSpace(name))
	switch {
	case ct == "message/rfc822" || ct == "message/global" || strings.HasSuffix(name, ".eml"):
		if w.original == nil {
			if derr != nil {
				return fmt.Errorf("%w: attached original: %v", ErrMalformed, derr)
			}
			w.original = dec
		}
	case ct == "application/vnd.ms-outlook" || strings.HasSuffix(name, ".msg"):
		w.msg = true
	default:
		if derr != nil {
			dec = body // a wrapper part, best effort: keep it as sent
		}
		w.leaves = append(w.leaves, leaf{ct: h.Get("Content-Type"), disp: h.Get("Content-Disposition"), body: dec})
	}
	return nil
}

// decodeTransfer undoes a Content-Transfer-Encoding.
func decodeTransfer(b []byte, cte string) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, b)
		clean = bytes.TrimRight(clean, "=")
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, err := base64.RawStdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("base64: %v", err)
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable: %v", err)
		}
		return out, nil
	}
	return b, nil
}

// forwarded rebuilds a plain forward's body as a message of its own: the
// wrapper's headers (the reporter, the SOC's recipients, the Received
// chain of the SOC's own servers) are dropped, every part is kept, and
// the reporter's address is replaced in text parts.
func forwarded(leaves []leaf, reporter string) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var scrub *regexp.Regexp
	if reporter != "" {
		scrub = regexp.MustCompile(`(?i)` + regexp.QuoteMeta(reporter))
	}
	for _, l := range leaves {
		h := textproto.MIMEHeader{}
		ct := l.ct
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		h.Set("Content-Type", ct)
		if l.disp != "" {
			h.Set("Content-Disposition", l.disp)
		}
		h.Set("Content-Transfer-Encoding", "base64")
		body := l.body
		if scrub != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "text/") {
			body = scrub.ReplaceAllLiteral(body, []byte("[reporter]"))
		}
		pw, _ := mw.CreatePart(h) // writes to a bytes.Buffer: no error
		enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: pw})
		_, _ = enc.Write(body)
		_ = enc.Close()
	}
	_ = mw.Close()
	head := "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + mw.Boundary() + "\"\r\n\r\n"
	return append([]byte(head), buf.Bytes()...)
}

// lineWriter breaks base64 output into 76-character lines.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		p, l.col = p[k:], l.col+k
		if l.col == 76 {
			if _, err := l.w.Write([]byte("\r\n")); err != nil {
				return 0, err
			}
			l.col = 0
		}
	}
	return n, nil
}
