package all_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
)

const module = "github.com/iocane/iocane/"

// registrations matches a Register call of provider, output or
// integrations in a package's own code.
var registrations = regexp.MustCompile(`\b(provider|output|integrations)\.Register\(`)

// TestAllPackagesImportEveryRegistrar fails when a package under
// internal/provider, internal/output or internal/integrations registers a
// provider, an output format or a write-back sink, but its all/ package
// does not import it: the binary would not know it.
func TestAllPackagesImportEveryRegistrar(t *testing.T) {
	for _, tree := range []string{"provider", "output", "integrations"} {
		root := filepath.Join("..", "..", tree)
		imported := imports(t, filepath.Join(root, "all"))
		dirs, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range dirs {
			if !d.IsDir() || d.Name() == "all" || !registers(t, filepath.Join(root, d.Name())) {
				continue
			}
			n++
			if pkg := module + "internal/" + tree + "/" + d.Name(); !slices.Contains(imported, pkg) {
				t.Errorf("%s registers itself but internal/%s/all does not import it", pkg, tree)
			}
		}
		if n == 0 {
			t.Errorf("no registering package found under internal/%s", tree)
		}
	}
}

// registers reports whether the package in dir calls a Register in its
// non-test files.
func registers(t *testing.T, dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if registrations.Match(b) {
			return true
		}
	}
	return false
}

// imports lists the import paths of the non-test files in dir.
func imports(t *testing.T, dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range pf.Imports {
			out = append(out, strings.Trim(i.Path.Value, `"`))
		}
	}
	return out
}

// TestREADMEProviderTable holds the provider table of the README (the
// "| provider | IOC types | credentials (environment) |" one) against the
// registered Specs: the same providers, each with the IOC types its Spec
// supports ("all" for every type, "hashes" for md5 sha1 sha256).
func TestREADMEProviderTable(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "| provider | IOC types | credentials (environment) |")
	if start < 0 {
		t.Fatal("README has no provider table")
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(doc[start:], "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if i < 2 {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		names := strings.Split(cells[0], ",")
		for _, name := range names {
			name = strings.TrimSpace(name)
			if j := strings.Index(name, " "); j > 0 {
				name = name[:j] // "passivetotal (Defender TI)"
			}
			spec, ok := provider.Get(name)
			if !ok {
				t.Errorf("README lists %q, which is not a registered provider", name)
				continue
			}
			seen[name] = true
			if got, want := readmeTypes(strings.TrimSpace(cells[1])), typeNames(spec.Types); !slices.Equal(got, want) {
				t.Errorf("README: %s handles %v, its Spec %v", name, got, want)
			}
		}
	}
	for _, s := range provider.All() {
		if !seen[s.Name] {
			t.Errorf("provider %s is registered but not in the README's provider table", s.Name)
		}
	}
}

func readmeTypes(cell string) []string {
	if cell == "all" {
		return typeNames(ioc.Types)
	}
	var out []string
	for _, f := range strings.Fields(cell) {
		if f == "hashes" {
			out = append(out, "md5", "sha1", "sha256")
			continue
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

func typeNames(ts []ioc.Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	slices.Sort(out)
	return out
}
