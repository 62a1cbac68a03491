package main

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// trapFiles are file names whose extension is not a domain's TLD, except
// archive.zip, clip.mov, install.sh, script.py and README.md: .zip .mov .sh
// .py .md are real TLDs, and iocane's documented rule (internal/ioc doc)
// reads a bare two-label name with such a TLD in free text as a file, not a
// domain, as an analyst would (TestTrapFiles checks the list against the
// public suffix list).
var trapFiles = []string{"invoice.pdf", "setup.exe", "report.docx", "payload.dll", "config.json", "main.go",
	"install.sh", "script.py", "archive.zip", "clip.mov", "README.md", "data.csv", "image.png", "backup.tar.gz",
	"notes.txt", "macro.xlsm", "loader.vbs", "update.msi", "kernel32.dll", "svchost.exe"}

// trapCode are code and field-name snippets whose dotted words are not
// domains.
var trapCode = []string{"os.path.join(a, b)", "document.getElementById('x')", "e.g.", "i.e.", "node.js", "java.lang.String",
	"print(self.name)", "user.email", "log.info(msg)", "console.log(err)", "source.ip", "destination.port", "event.action",
	"/usr/lib/libc.so.6", `C:\Windows\System32\cmd.exe`, "std::vector<int>", "U.S.A.", "a.m."}

// traps writes a line of things naive extractors take for IOCs.
func (g *gen) traps() {
	var parts []string
	for range 4 + g.r.IntN(5) {
		var p string
		switch g.r.IntN(14) {
		case 0:
			p = fmt.Sprintf("v%d.%d.%d.%d", g.r.IntN(5), g.r.IntN(20), g.r.IntN(10), g.r.IntN(100))
		case 1:
			p = fmt.Sprintf("%d.%02d.%02d.%02d.%02d.%02d", 2015+g.r.IntN(11), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
		case 2:
			p = fmt.Sprintf("1.3.6.1.4.1.%d.%d.%d", g.r.IntN(40000), g.r.IntN(30), g.r.IntN(10))
		case 3:
			p = fmt.Sprintf("%d.%d.%d.%d", 256+g.r.IntN(744), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
		case 4, 5:
			p = g.pick(trapFiles)
		case 6, 7:
			p = g.pick(trapCode)
		case 8:
			p = fmt.Sprintf("%d.%d.%d", g.r.IntN(20), g.r.IntN(20), g.r.IntN(100))
		case 9:
			p = fmt.Sprintf("%d.%d", g.r.IntN(100), g.r.IntN(100000))
		case 10:
			p = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
		case 11:
			p = fmt.Sprintf("%02d:%02d:%02d", g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
		case 12:
			p = fmt.Sprintf("%d.%d.%d.%d.%d", 1+g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
		default:
			p = fmt.Sprintf("build %d.%d.%d-rc%d", g.r.IntN(5), g.r.IntN(20), g.r.IntN(10), g.r.IntN(5))
		}
		parts = append(parts, p)
	}
	switch g.r.IntN(3) {
	case 0:
		g.printf("%s\n", strings.Join(parts, " "))
	case 1:
		g.printf("Install %s from the share, then open %s (%s).\n", parts[0], g.pick(trapFiles), strings.Join(parts[1:], ", "))
	default:
		g.printf("%s %s app[%d]: loaded %s\n", g.stamp(), g.pick(hosts), g.r.IntN(65535), strings.Join(parts, "; "))
	}
}

// noise writes hex and base64 runs of lengths no hash has, UUIDs and
// constants.
func (g *gen) noise() {
	n := []int{8, 12, 16, 20, 24, 48, 56, 96}[g.r.IntN(8)]
	raw := make([]byte, 18+g.r.IntN(30))
	for i := range raw {
		raw[i] = byte(g.r.IntN(256))
	}
	g.printf("0x%s %s %s-%s-%s-%s-%s %s\n", g.hex(8), g.hex(n), g.hex(8), g.hex(4), g.hex(4), g.hex(4), g.hex(12),
		base64.StdEncoding.EncodeToString(raw))
}
