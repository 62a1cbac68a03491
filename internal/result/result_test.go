package result

import "testing"

func TestRankAndWorst(t *testing.T) {
	order := []Verdict{Benign, Unknown, Suspicious, Malicious}
	for i, v := range order {
		if v.Rank() != i {
			t.Errorf("%s.Rank() = %d, want %d", v, v.Rank(), i)
		}
		if !v.Valid() {
			t.Errorf("%s is not Valid", v)
		}
	}
	if Verdict("evil").Valid() || Verdict("evil").Rank() != Unknown.Rank() {
		t.Error("an unknown verdict value must be invalid and rank as unknown")
	}
	for _, tc := range []struct {
		in   []Verdict
		want Verdict
	}{
		{nil, Unknown},
		{[]Verdict{Benign}, Benign},
		{[]Verdict{Benign, Unknown}, Unknown}, // unknown is worse than benign: nothing vouches for it
		{[]Verdict{Unknown, Suspicious, Benign}, Suspicious},
		{[]Verdict{Suspicious, Malicious, Benign}, Malicious},
	} {
		var rs []Result
		for _, v := range tc.in {
			rs = append(rs, Result{Verdict: v})
		}
		if got := Worst(rs); got != tc.want {
			t.Errorf("Worst(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
