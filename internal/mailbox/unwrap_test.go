package mailbox

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/input"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// iocs extracts the IOCs iocane's eml reader finds in b, as "type:value".
func iocs(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	err := input.Read(context.Background(), bytes.NewReader(b), "report.eml", input.Options{Format: input.EML}, func(it input.Item) error {
		out = append(out, it.IOC.String())
		return nil
	})
	if err != nil {
		t.Fatalf("input.Read: %v", err)
	}
	return out
}

func hasIOC(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(strings.ToLower(s), sub) {
			return true
		}
	}
	return false
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		file      string
		id        string
		reporter  string
		subject   string
		attached  bool
		want      []string // IOC substrings that must be found
		wantNot   []string // IOC substrings that must not
		wantErrIs error
	}{
		{file: "report-rfc822.eml", id: "report-1@corp.example", reporter: "alice@corp.example", subject: "Phishing: Your account is locked", attached: true,
			want:    []string{"login.paypa1-verify.example/account", "203.0.113.7", "198.51.100.23", "security@paypa1-verify.example"},
			wantNot: []string{"corp.example"}},
		{file: "report-eml-attachment.eml", id: "report-2@corp.example", reporter: "bob@corp.example", subject: "FW: Parcel held", attached: true,
			want: []string{"https://dhl-parcel.example/pay", "noreply@dhl-parcel.example"}, wantNot: []string{"corp.example"}},
		{file: "forward-plain.eml", id: "report-3@corp.example", reporter: "carol@corp.example", subject: "FW: Invoice overdue",
			want: []string{"invoice-overdue.example/inv.zip", "billing@invoice-overdue.example"}, wantNot: []string{"carol@corp.example", "phishing@corp.example"}},
		{file: "no-message-id.eml", id: "sha256:", reporter: "frank@corp.example", subject: "no id", attached: true,
			want: []string{"bad-sender.example/x"}, wantNot: []string{"corp.example"}},
		{file: "report-msg.eml", wantErrIs: ErrUnsupported},
		{file: "malformed.eml", wantErrIs: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := Unwrap(fixture(t, tt.file))
			if tt.wantErrIs != nil {
				if !errors.Is(err, tt.wantErrIs) {
					t.Fatalf("err = %v, want %v", err, tt.wantErrIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r.MessageID, tt.id) || r.Reporter != tt.reporter || r.Subject != tt.subject || r.Attached != tt.attached {
				t.Errorf("got id %q reporter %q subject %q attached %v", r.MessageID, r.Reporter, r.Subject, r.Attached)
			}
			got := iocs(t, r.Original)
			for _, w := range tt.want {
				if !hasIOC(got, w) {
					t.Errorf("IOC %q missing from %v", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if hasIOC(got, w) {
					t.Errorf("IOC %q must not be found: %v", w, got)
				}
			}
		})
	}
}

func TestUnwrapAttachedIsVerbatim(t *testing.T) {
	r, err := Unwrap(fixture(t, "report-rfc822.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(r.Original, []byte("Received: from mail.paypa1-verify.example")) ||
		!bytes.HasSuffix(r.Original, []byte("198.51.100.23.")) {
		t.Errorf("original not returned as attached:\n%s", r.Original)
	}
	if bytes.Contains(bytes.ToLower(r.Original), []byte("corp.example")) {
		t.Errorf("the wrapper leaked into the original:\n%s", r.Original)
	}
}

func TestUnwrapHashKeyIsStable(t *testing.T) {
	b := fixture(t, "no-message-id.eml")
	a, _ := Unwrap(b)
	c, _ := Unwrap(b)
	if a.MessageID != c.MessageID || len(a.MessageID) != len("sha256:")+64 {
		t.Errorf("ids %q %q", a.MessageID, c.MessageID)
	}
}

// FuzzUnwrap checks that Unwrap never panics and that what it returns is
// a message the eml reader can parse, never the wrapper's headers.
func FuzzUnwrap(f *testing.F) {
	for _, n := range []string{"report-rfc822.eml", "report-eml-attachment.eml", "forward-plain.eml", "report-msg.eml", "malformed.eml", "no-message-id.eml"} {
		f.Add(fixture(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Unwrap(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if r.MessageID == "" {
			t.Fatal("empty message id")
		}
		if _, err := mail.ReadMessage(bytes.NewReader(r.Original)); err != nil {
			t.Fatalf("original does not parse: %v", err)
		}
		if !r.Attached {
			m, _ := mail.ReadMessage(bytes.NewReader(r.Original))
			for _, h := range []string{"From", "To", "Subject", "Received", "Message-Id"} {
				if m.Header.Get(h) != "" {
					t.Fatalf("wrapper header %s kept in a plain forward", h)
				}
			}
		}
	})
}
