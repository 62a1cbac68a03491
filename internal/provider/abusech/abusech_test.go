package abusech

import (
	"encoding/json"
	"testing"
	"time"
)

func TestInt(t *testing.T) {
	for in, want := range map[string]Int{`120`: 120, `"120"`: 120, `""`: 0, `null`: 0} {
		var n Int
		if err := json.Unmarshal([]byte(in), &n); err != nil || n != want {
			t.Errorf("Int(%s) = %d, %v; want %d", in, n, err, want)
		}
	}
	var n Int
	if err := json.Unmarshal([]byte(`"lots"`), &n); err == nil {
		t.Error(`Int("lots") succeeded`)
	}
}

func TestID(t *testing.T) {
	for in, want := range map[string]ID{`"105821"`: "105821", `105821`: "105821"} {
		var id ID
		if err := json.Unmarshal([]byte(in), &id); err != nil || id != want {
			t.Errorf("ID(%s) = %q, %v; want %q", in, id, err, want)
		}
	}
}

func TestTime(t *testing.T) {
	tests := map[string]time.Time{
		"2019-01-19 01:33:26 UTC": time.Date(2019, 1, 19, 1, 33, 26, 0, time.UTC),
		"2020-02-13 11:55:46":     time.Date(2020, 2, 13, 11, 55, 46, 0, time.UTC),
		"2019-01-19":              time.Date(2019, 1, 19, 0, 0, 0, 0, time.UTC),
	}
	for in, want := range tests {
		if got, ok := Time(in); !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Time(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "yesterday"} {
		if _, ok := Time(in); ok {
			t.Errorf("Time(%q) parsed", in)
		}
	}
}

func TestTags(t *testing.T) {
	got := Tags([]string{"Heodo", "", "exe"}, []string{"heodo", " emotet "})
	if len(got) != 3 || got[0] != "Heodo" || got[1] != "exe" || got[2] != "emotet" {
		t.Errorf("Tags = %q", got)
	}
}
