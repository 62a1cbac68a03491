package report

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTMLRendersInChromium renders the seeded report in headless Chromium
// and checks the screenshot's pixels: each chart's own colours must be
// painted (the daily bars and the donut share the verdict colours; the
// latency bars are the two blues). It runs only with IOCANE_TEST_CHROMIUM=1
// and a chromium binary (Debian: apt-get install chromium); CI relies on
// the structural tests in html_test.go.
func TestHTMLRendersInChromium(t *testing.T) {
	if os.Getenv("IOCANE_TEST_CHROMIUM") != "1" {
		t.Skip("set IOCANE_TEST_CHROMIUM=1 to render in headless Chromium")
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium binary")
	}
	// The whole page first (it must render), then each chart alone, so a
	// missing chart cannot hide behind another one's colours.
	full := renderSeeded(t)
	pages := map[string]string{"page": full}
	for _, id := range []string{"chart-daily", "chart-verdicts", "chart-latency"} {
		i := strings.Index(full, `<svg id="`+id+`"`)
		if i < 0 {
			t.Fatalf("no %s in the page", id)
		}
		j := strings.Index(full[i:], "</svg>")
		pages[id] = "<!DOCTYPE html><html><body>" + full[i:i+j+len("</svg>")] + "</body></html>"
	}
	want := map[string]map[string]uint32{
		"page":           {"malicious": 0xc0392b, "p95": 0x1f618d},
		"chart-daily":    {"malicious": 0xc0392b, "suspicious": 0xe67e22, "benign": 0x27ae60, "unknown": 0x95a5a6},
		"chart-verdicts": {"malicious": 0xc0392b, "suspicious": 0xe67e22, "benign": 0x27ae60, "unknown": 0x95a5a6},
		"chart-latency":  {"p50": 0x7fb3d5, "p95": 0x1f618d},
	}
	for name, html := range pages {
		counts := screenshot(t, bin, html)
		for what, hex := range want[name] {
			if counts[hex] < 200 {
				t.Errorf("%s: %s (#%06x) painted on %d pixels, want a chart's worth", name, what, hex, counts[hex])
			}
		}
		t.Logf("%s rendered: %v", name, pick(counts, want[name]))
	}
}

// screenshot renders html in headless Chromium and counts the colours.
func screenshot(t *testing.T, bin, html string) map[uint32]int {
	t.Helper()
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	shot := filepath.Join(dir, "shot.png")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size=1200,1600", "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return colourCounts(img)
}

func colourCounts(img image.Image) map[uint32]int {
	out := map[uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out[(r>>8)<<16|(g>>8)<<8|bl>>8]++
		}
	}
	return out
}

func pick(counts map[uint32]int, colours map[string]uint32) map[string]int {
	out := map[string]int{}
	for name, hex := range colours {
		out[name] = counts[hex]
	}
	return out
}
