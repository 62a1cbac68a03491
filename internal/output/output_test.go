package output_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/iocane/iocane/internal/output"
	_ "github.com/iocane/iocane/internal/output/all"
	"github.com/iocane/iocane/internal/output/outputtest"
)

// The docs/design.md --format list.
var want = []string{"cortex", "csv", "dbot", "json", "jsonl", "misp", "stix", "table"}

func TestFormats(t *testing.T) {
	if got := output.Formats(); !slices.Equal(got, want) {
		t.Errorf("formats %v, want %v", got, want)
	}
	if _, err := output.New("yaml", &bytes.Buffer{}, output.Options{}); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestEveryFormatWritesAndReportsErrors renders the fixtures in every format
// and checks that a failing destination surfaces as an error.
func TestEveryFormatWritesAndReportsErrors(t *testing.T) {
	for _, f := range want {
		t.Run(f, func(t *testing.T) {
			if out := outputtest.Render(t, f, outputtest.Options(), outputtest.Results()); len(out) == 0 {
				t.Error("no output")
			}
			w, err := output.New(f, failing{}, outputtest.Options())
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(outputtest.Results()[0])
			if err == nil {
				err = w.Close()
			}
			if err == nil {
				t.Error("a failing writer went unreported")
			}
		})
	}
}

func TestUUID5(t *testing.T) {
	// Python: uuid.uuid5(uuid.NAMESPACE_URL, "https://iocane.example/")
	got := output.UUID5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "https://iocane.example/")
	if got != "a3169aa7-62a2-5eac-8caa-7faadcbda98f" {
		t.Errorf("UUID5 = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("malformed namespace did not panic")
		}
	}()
	output.UUID5("not-a-uuid", "x")
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }
