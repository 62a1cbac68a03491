package provider

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
)

type nopProvider struct{}

func (nopProvider) Lookup(context.Context, ioc.IOC) (Finding, error) { return Finding{}, nil }

func testSpec(name string) Spec {
	return Spec{Name: name, Types: []ioc.Type{ioc.IPv4}, New: func(Config) (Provider, error) { return nopProvider{}, nil }}
}

func names(ss []Spec) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// Declared specs join the registered ones in Get and All (sorted), each
// Declare replaces the whole declared set, and a built-in name can never
// be declared.
func TestDeclare(t *testing.T) {
	Register(testSpec("decltest_builtin"))
	t.Cleanup(func() {
		_ = Declare(nil)
		regMu.Lock()
		delete(specs, "decltest_builtin")
		regMu.Unlock()
	})
	before := names(All())

	if err := Declare([]Spec{testSpec("decltest_zz"), testSpec("decltest_aa")}); err != nil {
		t.Fatal(err)
	}
	all := names(All())
	if !slices.IsSorted(all) || !slices.Contains(all, "decltest_aa") || !slices.Contains(all, "decltest_zz") || len(all) != len(before)+2 {
		t.Errorf("All = %v", all)
	}
	if s, ok := Get("decltest_aa"); !ok || s.Name != "decltest_aa" {
		t.Errorf("Get(decltest_aa) = %v, %v", s.Name, ok)
	}

	// A second Declare replaces the set.
	if err := Declare([]Spec{testSpec("decltest_mm")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := Get("decltest_aa"); ok {
		t.Error("decltest_aa survived a Declare without it")
	}
	if all := names(All()); len(all) != len(before)+1 || !slices.Contains(all, "decltest_mm") {
		t.Errorf("All = %v", all)
	}

	// Errors leave the declared set as it was.
	incomplete := testSpec("decltest_x")
	incomplete.New = nil
	for _, bad := range []struct {
		specs []Spec
		want  string
	}{
		{[]Spec{testSpec("decltest_builtin")}, "built-in"},
		{[]Spec{testSpec("decltest_a"), testSpec("decltest_a")}, "declared twice"},
		{[]Spec{incomplete}, "incomplete"},
		{[]Spec{testSpec("")}, "incomplete"},
	} {
		if err := Declare(bad.specs); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Declare(%v): err = %v, want %q", names(bad.specs), err, bad.want)
		}
		if _, ok := Get("decltest_mm"); !ok {
			t.Errorf("Declare(%v) failed but dropped the declared set", names(bad.specs))
		}
	}
	if s, _ := Get("decltest_builtin"); s.New == nil {
		t.Error("the built-in was replaced")
	}

	if err := Declare(nil); err != nil {
		t.Fatal(err)
	}
	if all := names(All()); !slices.Equal(all, before) {
		t.Errorf("after Declare(nil): All = %v, want %v", all, before)
	}
}
