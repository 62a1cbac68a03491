package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestDesignDocCoversTheContract keeps docs/design.md true where a machine
// can check it: every command and flag of the CLI, and every IOCANE_
// variable the code reads by name, is in it.
func TestDesignDocCoversTheContract(t *testing.T) {
	b, err := os.ReadFile("../../docs/design.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if !strings.Contains(doc, "`"+sub.Name()) && !strings.Contains(doc, " "+sub.Name()+"`") {
				t.Errorf("docs/design.md does not name the command %q", sub.CommandPath())
			}
			sub.LocalFlags().VisitAll(func(f *pflag.Flag) {
				if f.Name != "help" && !strings.Contains(doc, "--"+f.Name) {
					t.Errorf("docs/design.md does not name %s --%s", sub.CommandPath(), f.Name)
				}
			})
			walk(sub)
		}
	}
	root := newRoot()
	walk(root)
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(doc, "--"+f.Name) {
			t.Errorf("docs/design.md does not name the global flag --%s", f.Name)
		}
	})

	lit := regexp.MustCompile(`"(IOCANE_[A-Z0-9_]+)"`)
	err = filepath.WalkDir("../../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(src), -1) {
			if strings.HasSuffix(m[1], "_") {
				continue // a prefix the code completes
			}
			if !strings.Contains(doc, m[1]) {
				t.Errorf("%s reads %s, which docs/design.md does not name", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDocsNameFilesThatExist keeps the README's and docs/design.md's
// pointers into the repository true: every path they quote in backticks
// under one of the repository's top-level folders exists.
func TestDocsNameFilesThatExist(t *testing.T) {
	quoted := regexp.MustCompile("`((?:bench|clients|cmd|contrib|docs|examples|internal)/[A-Za-z0-9_./-]*[A-Za-z0-9_])/?`")
	for _, doc := range []string{"README.md", "docs/design.md"} {
		b, err := os.ReadFile(filepath.Join("../..", doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
			if strings.ContainsAny(m[1], "*<>") {
				continue // a pattern, not a path
			}
			if _, err := os.Stat(filepath.Join("../..", m[1])); err != nil {
				t.Errorf("%s names %s, which does not exist", doc, m[1])
			}
		}
	}
}
