package main

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// block writes one record: a few log lines, an alert, an e-mail, a report
// paragraph or a line of traps. The first block is always a syslog line, so
// format detection sees text.
func (g *gen) block() {
	if g.n == 0 {
		g.syslog()
		return
	}
	switch k := g.r.IntN(100); {
	case k < 16:
		g.syslog()
	case k < 30:
		g.firewall()
	case k < 36:
		g.proxy()
	case k < 40:
		g.dns()
	case k < 50:
		g.splunk()
	case k < 55:
		g.elastic()
	case k < 67:
		g.emailText()
	case k < 85:
		g.prose()
	case k < 93:
		g.traps()
	default:
		g.noise()
	}
}

var (
	months  = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	actions = []string{"ALLOW", "DROP", "DENY", "ACCEPT", "REJECT"}
	hosts   = []string{"web01", "fw01", "dc02", "mail-gw", "bastion", "k8s-node-3", "vpn01"}
	users   = []string{"root", "admin", "oracle", "deploy", "test", "ubuntu", "git"}
)

func (g *gen) stamp() string {
	return fmt.Sprintf("%s %2d %02d:%02d:%02d", g.pick(months), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
}

func (g *gen) iso() string {
	return fmt.Sprintf("2026-%02d-%02dT%02d:%02d:%02d.%03dZ", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1000))
}

func (g *gen) syslog() {
	switch g.r.IntN(5) {
	case 0:
		g.printf("%s %s sshd[%d]: Failed password for invalid user %s from %s port %d ssh2\n",
			g.stamp(), g.pick(hosts), 1000+g.r.IntN(60000), g.pick(users), g.ipv4(), 1024+g.r.IntN(60000))
	case 1:
		fp := base64.RawStdEncoding.EncodeToString([]byte(g.hex(32)))[:43]
		g.printf("%s %s sshd[%d]: Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s\n",
			g.stamp(), g.pick(hosts), 1000+g.r.IntN(60000), g.pick(users), g.ipv4(), 1024+g.r.IntN(60000), fp)
	case 2:
		d := g.domain()
		g.printf("%s mail-gw postfix/smtpd[%d]: connect from %s[%s]\n", g.stamp(), 100+g.r.IntN(30000), d, g.ipv4())
	case 3:
		g.add("domain", "dc01.corp.local")
		g.printf("%s dc01.corp.local kernel: [%d.%06d] audit: type=1400 apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/cupsd\" name=\"/etc/ssl/private/\" pid=%d comm=\"cupsd\"\n",
			g.stamp(), g.r.IntN(99999), g.r.IntN(999999), g.r.IntN(65535))
	default:
		g.printf("%s %s CRON[%d]: (root) CMD (/usr/lib/sysstat/debian-sa1 1 1) version 12.6.1\n", g.stamp(), g.pick(hosts), g.r.IntN(65535))
	}
}

func (g *gen) firewall() {
	switch g.r.IntN(3) {
	case 0:
		g.printf("%s %s kernel: [UFW %s] IN=eth0 OUT=eth1 SRC=%s DST=%s LEN=%d TOS=0x00 PREC=0x00 TTL=%d ID=%d PROTO=TCP SPT=%d DPT=%d\n",
			g.stamp(), g.pick(hosts), g.pick(actions), g.ipv4(), g.ipv4(), 40+g.r.IntN(1400), 32+g.r.IntN(96), g.r.IntN(65535),
			1024+g.r.IntN(60000), []int{22, 80, 443, 445, 3389, 8080}[g.r.IntN(6)])
	case 1:
		a, b := g.ipv4(), g.ipv4()
		g.printf("%s asa01 : %%ASA-6-302013: Built outbound TCP connection %d for outside:%s/443 (%s/443) to inside:%s/%d (%s/%d)\n",
			g.stamp(), g.r.IntN(9999999), a, a, b, 1024+g.r.IntN(60000), b, 1024+g.r.IntN(60000))
	default:
		g.add("ipv4", "0.0.0.0")
		g.printf("1,2026/%02d/%02d %02d:%02d:%02d,0123456789,TRAFFIC,end,2305,%s,%s,0.0.0.0,0.0.0.0,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/1,ethernet1/2,Log-Fwd,%d,1,%d,443,0,0,0x19,tcp,allow,%d\n",
			1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.ipv4(), g.ipv4(), g.r.IntN(999999), 1024+g.r.IntN(60000), g.r.IntN(99999))
	}
}

func (g *gen) proxy() {
	g.printf("%d.%03d %d %s TCP_MISS/200 %d GET %s - DIRECT/%s text/html\n",
		1700000000+g.r.IntN(1000000), g.r.IntN(1000), g.r.IntN(5000), g.ipv4(), g.r.IntN(90000), g.url(false), g.ipv4())
}

func (g *gen) dns() {
	d := g.domain()
	g.printf("%s ns1 named[%d]: client @0x7f%s %s#%d (%s): query: %s IN %s +E(0) (%s)\n",
		g.stamp(), 100+g.r.IntN(3000), g.hex(8), g.ipv4(), 1024+g.r.IntN(60000), d, d, g.pick([]string{"A", "AAAA", "TXT", "MX"}), g.ipv4())
}

// jsonURL escapes slashes as Splunk's webhook does.
func jsonURL(u string) string { return strings.ReplaceAll(u, "/", `\/`) }

func (g *gen) splunk() {
	_, h := g.hash()
	sid := fmt.Sprintf("scheduler__admin__search__RMD5%s_at_%d_%d", g.hex(12), 1700000000+g.r.IntN(1000000), g.r.IntN(9999))
	link := "http://splunk.corp.example.com:8000/app/search/search?sid=" + sid
	g.add("url", link)
	g.add("domain", "splunk.corp.example.com")
	g.printf(`{"search_name":"%s","sid":"%s","app":"search","owner":"admin","results_link":"%s","result":{"_time":"%s","src_ip":"%s","dest_ip":"%s","dest_host":"%s","url":"%s","file_hash":"%s","user":"%s","process":"C:\\Windows\\System32\\rundll32.exe","count":"%d","version":"%d.%d.%d"}}`+"\n",
		g.pick([]string{"Threat - Outbound C2 - Rule", "Suspicious Beacon", "Phishing URL Click", "Malware Hash Seen"}), sid, jsonURL(link),
		g.iso(), g.ipv4(), g.ipv4(), g.domain(), jsonURL(g.url(false)), h, g.email(false), 1+g.r.IntN(500),
		g.r.IntN(10), g.r.IntN(20), g.r.IntN(100))
}

func (g *gen) elastic() {
	_, h := g.hash()
	g.printf(`{"@timestamp":"%s","event":{"action":"connection_attempted","category":["network"],"kind":"alert"},"source":{"ip":"%s","port":%d},"destination":{"ip":"%s","domain":"%s","port":443},"threat":{"indicator":{"file":{"hash":{"value":"%s"}}}},"agent":{"type":"filebeat","version":"8.11.%d"},"rule":{"name":"Beacon to %s"}}`+"\n",
		g.iso(), g.ipv4(), 1024+g.r.IntN(60000), g.ipv4(), g.domain(), h, g.r.IntN(5), g.pick([]string{"rare host", "new domain", "known C2"}))
}

func (g *gen) emailText() {
	relay := g.domain()
	from := g.email(false)
	g.printf("Received: from %s (%s [%s])\n\tby mx1.corp.example.com (Postfix) with ESMTPS id %s\n\tfor <%s>; Thu, 26 Nov 2026 %02d:%02d:%02d +0000 (UTC)\n",
		relay, relay, g.ipv4(), strings.ToUpper(g.hex(10)), g.email(false), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
	g.add("domain", "mx1.corp.example.com")
	g.printf("From: \"%s Security\" <%s>\nReply-To: %s\nSubject: %s\nX-Originating-IP: [%s]\n\n",
		g.pick(brands), from, g.email(false), g.pick([]string{"Action required: verify your account", "Invoice overdue", "Your mailbox is full", "Shared document"}), g.ipv4())
	g.printf("Dear customer, we noticed unusual activity. Please verify your account at %s within 24 hours.\n", g.url(true))
	if g.chance(50) {
		g.printf("If the link does not work, copy %s into your browser, or write to %s.\n", g.url(true), g.email(true))
	}
	g.printf("Regards, the %s team.\n-- \nForwarded to the SOC by %s: sender IP %s, relay %s\n\n", g.pick(brands), g.email(false), g.ipv4Defanged(), g.domainDefanged())
}

var words = strings.Fields(`the actor used a loader to deliver payload after initial access via phishing campaign
targeting finance sector with macro enabled documents and persistence through scheduled tasks observed
traffic beacon every minutes analysts confirmed lateral movement credential dumping on host we assess
with moderate confidence that operators rotated infrastructure weekly`)

func (g *gen) sentence(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.pick(words))
	}
	return b.String()
}

// prose writes a report paragraph with defanged IOCs in the wrappers
// reports use: parentheses, quotes, markdown links, angle brackets, lists.
func (g *gen) prose() {
	var b strings.Builder
	for range 3 + g.r.IntN(4) {
		s := g.sentence(5 + g.r.IntN(8))
		b.WriteString(strings.ToUpper(s[:1]) + s[1:])
		b.WriteByte(' ')
		switch g.r.IntN(16) {
		case 0:
			fmt.Fprintf(&b, "%s.", g.ipv4Defanged())
		case 1:
			fmt.Fprintf(&b, "(%s) and %s.", g.domainDefanged(), g.domainDefanged())
		case 2:
			fmt.Fprintf(&b, "%s, tracked as %s.", g.sentence(2), g.cve())
		case 3:
			name, h := g.hash()
			fmt.Fprintf(&b, "the sample (%s %s) dropped %s.exe.", name, h, g.hexHash())
		case 4:
			fmt.Fprintf(&b, "%s.", g.url(true))
		case 5:
			fmt.Fprintf(&b, "[the landing page](%s) and <%s>.", g.url(true), g.url(false))
		case 6:
			fmt.Fprintf(&b, "hosted on %s (%s).", g.asn(), g.pick([]string{"Cloudflare", "Hetzner", "OVH", "DigitalOcean"}))
		case 7:
			fmt.Fprintf(&b, "mail came from %s.", g.email(true))
		case 8:
			fmt.Fprintf(&b, "the IPv6 C2 %s answered.", g.ipv6())
		case 9:
			fmt.Fprintf(&b, "“%s” resolved to %s.", g.url(true), g.ipv4Defanged())
		case 10:
			d := g.domain()
			if isASCII(d) && g.chance(50) {
				fmt.Fprintf(&b, "the domain %s [.] %s was sinkholed.", d[:strings.LastIndexByte(d, '.')], d[strings.LastIndexByte(d, '.')+1:])
			} else {
				fmt.Fprintf(&b, "the regex %s matched.", strings.ReplaceAll(d, ".", `\.`))
			}
		case 11:
			fmt.Fprintf(&b, "exploiting %s and %s.", g.cve(), g.cve())
		default:
			b.WriteString(g.sentence(3))
			b.WriteByte('.')
		}
		b.WriteByte(' ')
	}
	if g.chance(30) {
		b.WriteString("\nIndicators:\n")
		for range 2 + g.r.IntN(4) {
			switch g.r.IntN(4) {
			case 0:
				fmt.Fprintf(&b, "- %s\n", g.url(true))
			case 1:
				fmt.Fprintf(&b, "- %s\n", g.domainDefanged())
			case 2:
				fmt.Fprintf(&b, "- %s\n", g.ipv4Defanged())
			default:
				_, h := g.hash()
				fmt.Fprintf(&b, "- `%s`\n", h)
			}
		}
	}
	b.WriteByte('\n')
	g.printf("%s", b.String())
}

// hexHash plants a hash used as a file name ("<sha256>.exe").
func (g *gen) hexHash() string {
	h := g.hex(64)
	g.add("sha256", h)
	return h
}
