// Command warninglists refreshes the MISP warninglists bundled in package
// knowninfra from github.com/MISP/misp-warninglists: one file per list in
// knowninfra.Lists (data/<name>.json, upstream's JSON with only the entries
// the list keeps), and UPSTREAM.txt naming the commit and the counts.
//
//	go generate ./internal/provider/knowninfra                  # from GitHub, branch main
//	go run ./internal/cmd/warninglists -dir internal/provider/knowninfra/data -ref <commit>
//	go run ./internal/cmd/warninglists -dir … -from ~/src/misp-warninglists   # a local clone
//
// It refuses to write when upstream's README no longer states the CC0 1.0
// licence that data/LICENSE.txt records. It never runs during build or test.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/provider/knowninfra"
)

const (
	repo    = "MISP/misp-warninglists"
	licence = "CC0 1.0 Universal"
)

func main() {
	dir := flag.String("dir", "data", "directory to write the lists into")
	ref := flag.String("ref", "main", "upstream branch, tag or commit to fetch")
	from := flag.String("from", "", "read a local clone of the repository instead of GitHub")
	flag.Parse()
	if err := run(*dir, *ref, *from); err != nil {
		fmt.Fprintln(os.Stderr, "warninglists:", err)
		os.Exit(1)
	}
}

// source reads upstream files by path ("lists/cloudflare/list.json").
type source interface {
	read(path string) ([]byte, error)
}

func run(dir, ref, from string) error {
	var src source
	var commit string
	var err error
	if from != "" {
		src = localSource(from)
		commit, err = gitHead(from)
	} else {
		gh := &githubSource{client: &http.Client{Timeout: time.Minute}}
		commit, err = gh.resolve(ref)
		gh.commit = commit
		src = gh
	}
	if err != nil {
		return err
	}
	readme, err := src.read("README.md")
	if err != nil {
		return err
	}
	if !bytes.Contains(readme, []byte(licence)) {
		return fmt.Errorf("upstream README at %s no longer states %q: review the licence before bundling", commit, licence)
	}
	var manifest strings.Builder
	fmt.Fprintf(&manifest, "MISP warninglists bundled by package knowninfra.\n\nrepository: https://github.com/%s\ncommit:     %s\nlicence:    %s (see LICENSE.txt)\n\n", repo, commit, licence)
	fmt.Fprintf(&manifest, "%-18s %8s %8s\n", "list", "upstream", "bundled")
	for _, l := range knowninfra.Lists {
		b, err := src.read("lists/" + l.Name + "/list.json")
		if err != nil {
			return err
		}
		out, total, kept, err := filter(l, b)
		if err != nil {
			return fmt.Errorf("%s: %w", l.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, l.Name+".json"), out, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&manifest, "%-18s %8d %8d\n", l.Name, total, kept)
	}
	manifest.WriteString("\npublic-dns-v4 and public-dns-v6 keep only the entries inside the big resolver operators'\nnetworks (knowninfra's wellKnownResolvers); every other list is bundled whole.\n")
	return os.WriteFile(filepath.Join(dir, "UPSTREAM.txt"), []byte(manifest.String()), 0o644)
}

// filter returns upstream's warninglist with only the entries l keeps.
// The other fields are kept as they are; keys come out sorted.
func filter(l knowninfra.List, b []byte) (out []byte, total, kept int, err error) {
	var wl map[string]json.RawMessage
	if err := json.Unmarshal(b, &wl); err != nil {
		return nil, 0, 0, err
	}
	var entries []string
	if err := json.Unmarshal(wl["list"], &entries); err != nil {
		return nil, 0, 0, fmt.Errorf("list: %w", err)
	}
	keep := entries[:0:0]
	for _, e := range entries {
		if l.Kept(e) {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		return nil, 0, 0, errors.New("no entry kept")
	}
	if wl["list"], err = json.Marshal(keep); err != nil {
		return nil, 0, 0, err
	}
	out, err = json.MarshalIndent(wl, "", " ")
	return append(out, '\n'), len(entries), len(keep), err
}

type localSource string

func (s localSource) read(path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(s), filepath.FromSlash(path)))
}

func gitHead(dir string) (string, error) {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse in %s: %w", dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// githubSource reads files at one commit from raw.githubusercontent.com.
type githubSource struct {
	client *http.Client
	commit string
}

// resolve turns ref into a commit id with the GitHub API.
func (g *githubSource) resolve(ref string) (string, error) {
	b, err := g.get("https://api.github.com/repos/"+repo+"/commits/"+ref, "application/vnd.github.sha")
	if err != nil {
		return "", err
	}
	sha := strings.TrimSpace(string(b))
	if len(sha) != 40 {
		return "", fmt.Errorf("resolve %s: unexpected answer %q", ref, sha)
	}
	return sha, nil
}

func (g *githubSource) read(path string) ([]byte, error) {
	return g.get("https://raw.githubusercontent.com/"+repo+"/"+g.commit+"/"+path, "")
}

func (g *githubSource) get(u, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return b, nil
}
