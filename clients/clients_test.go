// Package clients_test runs the Python packages under clients/ and
// contrib/ (the client, the XSOAR integration, the Splunk SOAR app) against
// a running iocane server that asks the fake providers. Each is a
// unittest suite; python3 (standard library only) must be installed, and
// is: a missing python3 fails these tests, it does not skip them.
package clients_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/server"
)

const token = "py-suite-token-5d3c1b7a9e0f2468"

// serve starts iocane serve in-process against the fake providers and
// returns its base URL.
func serve(t *testing.T) string {
	t.Helper()
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	t.Cleanup(fake.Close)
	environ := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+token)
	o := pipeline.Options{DBPath: filepath.Join(t.TempDir(), "iocane.db"), Environ: environ, Logger: slog.New(slog.DiscardHandler)}
	settings, err := pipeline.LoadSettings(o)
	if err != nil {
		t.Fatal(err)
	}
	metrics := server.NewMetrics()
	o.Settings, o.Observer = settings, metrics
	ctx, cancel := context.WithCancel(context.Background())
	p, err := pipeline.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- p.Serve(ctx, metrics, pipeline.ServeOptions{Listen: "127.0.0.1:0", Listening: func(a string) { addr <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve: %v", err)
		}
		p.Close()
	})
	select {
	case a := <-addr:
		if _, _, err := net.SplitHostPort(a); err != nil {
			t.Fatal(err)
		}
		return "http://" + a
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not listen within 30 s")
	}
	return ""
}

// unittest runs python3 -m unittest discover in dir against base.
func unittest(t *testing.T, base, dir string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed for the Python suites: %v", err)
	}
	cmd := exec.Command(py, "-m", "unittest", "discover", "-v", "-s", dir, "-t", dir)
	cmd.Env = append(os.Environ(), "IOCANE_URL="+base, "IOCANE_TOKEN="+token, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
}

func TestPythonClient(t *testing.T) {
	unittest(t, serve(t), "python/tests")
}

func TestXSOARIntegration(t *testing.T) {
	unittest(t, serve(t), "../contrib/xsoar/tests")
}

func TestSplunkSOARApp(t *testing.T) {
	unittest(t, serve(t), "../contrib/splunksoar/tests")
}

// pip installs the client offline: no index, nothing to fetch (the build
// backend is in the tree and needs only the standard library).
func TestPythonClientInstallsOffline(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed: %v", err)
	}
	target := t.TempDir()
	cmd := exec.Command(py, "-m", "pip", "install", "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--target", target, "./python")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install --no-index ./clients/python: %v\n%s", err, out)
	}
	check := exec.Command(py, "-c", "import iocane_client, sys; print(iocane_client.__version__, iocane_client.__file__)")
	check.Env = append(os.Environ(), "PYTHONPATH="+target)
	check.Dir = t.TempDir() // not the source tree
	out, err := check.CombinedOutput()
	if err != nil || !strings.Contains(string(out), target) {
		t.Fatalf("import after install: %v %s", err, out)
	}
}
