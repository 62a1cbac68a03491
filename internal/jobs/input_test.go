package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"
)

// A large input is stored compressed and read back as received; a small
// or incompressible one is stored as it is.
func TestInputStoredCompressed(t *testing.T) { backends(t, testInputStoredCompressed) }

func testInputStoredCompressed(t *testing.T, db string) {
	text := []byte(jobBody(200_000))
	random := make([]byte, 200_000)
	rand.Read(random)
	for name, tc := range map[string]struct {
		in  []byte
		enc string
	}{
		"large text":     {text, encGzip},
		"small":          {[]byte("185.220.101.47\n"), ""},
		"incompressible": {random, ""},
	} {
		b, enc, err := encodeInput(tc.in)
		if err != nil || enc != tc.enc {
			t.Fatalf("%s: encoding %q, %v; want %q", name, enc, err, tc.enc)
		}
		if enc == encGzip && len(b)*3 > len(tc.in) {
			t.Errorf("%s: %d bytes stored for %d", name, len(b), len(tc.in))
		}
		r, err := storedInput{b, enc}.open()
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(back, tc.in) {
			t.Errorf("%s: read back %d bytes (%v), want the %d received", name, len(back), err, len(tc.in))
		}
	}

	// Through a job: every IOC of a compressed input gets its result.
	h := newHarness(t, newEngine(t, newFake(), 4, nil), db, Options{})
	text2, all := ips(6000) // about 80 KB: over the threshold
	j, _, err := h.q.Submit(context.Background(), Spec{InputFormat: "text", Input: []byte(text2)})
	if err != nil {
		t.Fatal(err)
	}
	var enc string
	if err := h.q.r.QueryRow(h.q.dialect.Rebind(`SELECT input_encoding FROM jobs WHERE id = ?`), j.ID).Scan(&enc); err != nil || enc != encGzip {
		t.Fatalf("stored with encoding %q (%v), want gzip", enc, err)
	}
	if fin := h.wait(t); fin.Counts.Done != len(all) || fin.Counts.IOCs != len(all) {
		t.Errorf("counts %+v, want %d", fin.Counts, len(all))
	}
}
