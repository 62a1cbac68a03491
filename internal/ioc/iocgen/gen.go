// Package iocgen generates realistic mixed text for benchmarking IOC
// extraction: SIEM log lines, JSON alerts, e-mail text, report prose with
// defanged indicators, hex noise, and the versions, dates, OIDs and file
// names that trip naive extractors. The output is deterministic for a seed,
// so figures from different tools and runs are comparable.
package iocgen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
)

var (
	words = []string{"the", "actor", "used", "a", "loader", "to", "deliver", "payload", "after", "initial",
		"access", "via", "phishing", "campaign", "targeting", "finance", "sector", "with", "macro", "enabled",
		"documents", "and", "persistence", "through", "scheduled", "tasks", "observed", "traffic", "beacon",
		"every", "minutes", "analysts", "confirmed", "lateral", "movement", "credential", "dumping", "on", "host"}
	tlds    = []string{"com", "net", "org", "ru", "info", "xyz", "top", "io", "co.uk", "de", "cn", "biz", "online"}
	names   = []string{"update", "cdn", "secure-login", "mail", "api", "files", "static", "auth", "portal", "sync"}
	brands  = []string{"micros0ft", "paypa1", "dropbox-share", "office365-verify", "apple-id", "bank-alert", "docusign-review"}
	files   = []string{"report.pdf", "setup.exe", "config.json", "main.go", "invoice.docx", "archive.zip", "payload.dll", "run.sh", "README.md", "script.py"}
	codes   = []string{"os.path.join(a, b)", "document.getElementById('x')", "e.g.", "i.e.", "node.js", "self.name", "user.email", "log.info(msg)"}
	actions = []string{"ALLOW", "DROP", "DENY", "ACCEPT", "RESET"}
)

// Mixed returns about size bytes of mixed text, deterministic for seed.
func Mixed(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b bytes.Buffer
	b.Grow(size + 1024)
	for b.Len() < size {
		switch k := r.IntN(100); {
		case k < 35:
			siem(r, &b)
		case k < 50:
			alertJSON(r, &b)
		case k < 65:
			emailText(r, &b)
		case k < 85:
			prose(r, &b)
		case k < 93:
			noise(r, &b)
		default:
			traps(r, &b)
		}
	}
	return b.Bytes()
}

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

func ip(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

func domain(r *rand.Rand) string {
	return fmt.Sprintf("%s.%s%d.%s", pick(r, names), pick(r, brands), r.IntN(100), pick(r, tlds))
}

func hex(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func defang(r *rand.Rand, s string) string {
	dot := []string{"[.]", "(.)", "[dot]", "{.}", "."}[r.IntN(5)]
	return string(bytes.ReplaceAll([]byte(s), []byte("."), []byte(dot)))
}

func siem(r *rand.Rand, b *bytes.Buffer) {
	fmt.Fprintf(b, "Nov %2d %02d:%02d:%02d fw%02d kernel: %s IN=eth0 OUT=eth1 SRC=%s DST=%s LEN=%d PROTO=TCP SPT=%d DPT=%d\n",
		1+r.IntN(30), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(10), pick(r, actions), ip(r), ip(r),
		40+r.IntN(1400), 1024+r.IntN(60000), []int{22, 80, 443, 445, 3389, 8080}[r.IntN(6)])
	fmt.Fprintf(b, "%d.%03d %d TCP_MISS/200 %d GET http://%s/%s/%s - DIRECT/%s text/html\n",
		1700000000+r.IntN(1000000), r.IntN(1000), r.IntN(5000), r.IntN(90000), domain(r), pick(r, words), hex(r, 8), ip(r))
}

func alertJSON(r *rand.Rand, b *bytes.Buffer) {
	fmt.Fprintf(b, `{"search_name":"Suspicious Beacon","sid":"scheduler__admin_%s","result":{"src_ip":"%s","dest":"%s","url":"https:\/\/%s\/gate.php?id=%d","file_hash":"%s","user":"jdoe@corp.example.com","process":"C:\\Windows\\System32\\rundll32.exe"},"event":{"action":"%s","version":"%d.%d.%d"}}`+"\n",
		hex(r, 12), ip(r), domain(r), domain(r), r.IntN(99999), hex(r, 64), pick(r, actions), r.IntN(10), r.IntN(20), r.IntN(100))
}

func emailText(r *rand.Rand, b *bytes.Buffer) {
	d := domain(r)
	fmt.Fprintf(b, "From: \"IT Support\" <support@%s>\nReceived: from mail.%s ([%s]) by mx.corp.example.com with ESMTPS\nSubject: Action required\n\nDear user, your mailbox is almost full. Please verify your account at hxxps://%s/login?u=%s within 24 hours.\nReply to helpdesk [at] %s if you have questions. Thanks, %s Team.\n\n",
		d, d, ip(r), defang(r, d), hex(r, 10), defang(r, domain(r)), pick(r, brands))
}

func prose(r *rand.Rand, b *bytes.Buffer) {
	for i := 0; i < 3+r.IntN(5); i++ {
		for j := 0; j < 6+r.IntN(10); j++ {
			b.WriteString(pick(r, words))
			b.WriteByte(' ')
		}
		switch r.IntN(8) {
		case 0:
			b.WriteString(defang(r, ip(r)))
		case 1:
			b.WriteString(defang(r, domain(r)))
		case 2:
			fmt.Fprintf(b, "CVE-%d-%d", 2014+r.IntN(11), 1000+r.IntN(60000))
		case 3:
			b.WriteString(hex(r, []int{32, 40, 64}[r.IntN(3)]))
		case 4:
			fmt.Fprintf(b, "hxxp://%s/%s.bin", defang(r, domain(r)), pick(r, words))
		case 5:
			fmt.Fprintf(b, "AS%d", 1000+r.IntN(60000))
		default:
			b.WriteString(pick(r, words))
		}
		b.WriteString(". ")
	}
	b.WriteString("\n")
}

func noise(r *rand.Rand, b *bytes.Buffer) {
	fmt.Fprintf(b, "0x%s %s %s-%s-%s-%s-%s %s\n", hex(r, 8), hex(r, 48), hex(r, 8), hex(r, 4), hex(r, 4), hex(r, 4), hex(r, 12), hex(r, 20))
}

func traps(r *rand.Rand, b *bytes.Buffer) {
	fmt.Fprintf(b, "v%d.%d.%d.%d %d.%02d.%02d.%02d.%02d.%02d 1.3.6.1.4.1.%d %s %s 999.%d.%d.%d %s\n",
		r.IntN(5), r.IntN(20), r.IntN(10), r.IntN(100), 2015+r.IntN(10), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60),
		r.IntN(40000), pick(r, files), pick(r, codes), r.IntN(256), r.IntN(256), r.IntN(256), pick(r, files))
}
