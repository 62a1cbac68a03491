package input

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

const phishingEML = "../../examples/phishing.eml"

// The attachment of examples/phishing.eml (go run examples/phishing_gen.go).
const (
	zipMD5    = "6a866ee787c6ef8cadd92b515b860ba2"
	zipSHA1   = "c5ac3ae379247957f07a16cc1ee9e13b66d81da1"
	zipSHA256 = "d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616"
)

func TestReadEMLPhishing(t *testing.T) {
	items, err := read(t, "phishing.eml", mustRead(t, phishingEML), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items,
		"email:bounce-7731@mail.secure-paypa1.com", "domain:mail.secure-paypa1.com",
		"email:service@secure-paypa1.com", "domain:secure-paypa1.com",
		"email:resolution@account-verify-center.net", "domain:account-verify-center.net",
		"domain:mail-gw01.northwind.local", "ipv4:10.20.1.15", "domain:exch02.northwind.local", "ipv4:10.20.1.22",
		"domain:smtp.secure-paypa1.com", "ipv4:185.220.101.47", "ipv4:192.168.56.10",
		"email:j.doe@northwind-traders.com", "domain:northwind-traders.com",
		"url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c", "domain:login.secure-paypa1.com",
		"url:https://www.paypal.com/signin", "domain:www.paypal.com",
		"url:http://account-verify-center.net/u/7731?src=mail",
		"md5:"+zipMD5, "sha1:"+zipSHA1, "sha256:"+zipSHA256,
	)
	checks := []struct {
		ioc, path string
		ctx       map[string]string
	}{
		{"email:service@secure-paypa1.com", "header:From", nil},
		{"email:resolution@account-verify-center.net", "header:Reply-To", nil},
		{"email:bounce-7731@mail.secure-paypa1.com", "header:Return-Path", nil},
		{"ipv4:185.220.101.47", "header:Received[2]", map[string]string{"originating_ip": "true"}},
		{"ipv4:192.168.56.10", "header:Received[3]", nil},
		// First seen in the text part (defanged); the HTML part's link
		// with a different shown domain adds its facts.
		{"url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c", "body:text/plain",
			map[string]string{"mismatch": "true", "link_text_domain": "www.paypal.com"}},
		{"url:http://account-verify-center.net/u/7731?src=mail", "body:text/html", map[string]string{"html": "a[href]"}},
		{"sha256:" + zipSHA256, "attachment:PayPal_Case_PP-4471-2290.zip",
			map[string]string{"filename": "PayPal_Case_PP-4471-2290.zip", "content_type": "application/zip", "size": "361"}},
	}
	for _, c := range checks {
		it := find(t, items, c.ioc)
		if it.Path != c.path {
			t.Errorf("%s: path %q, want %q", c.ioc, it.Path, c.path)
		}
		for k, v := range c.ctx {
			if it.Context[k] != v {
				t.Errorf("%s: context[%s] = %q, want %q (context %v)", c.ioc, k, it.Context[k], v, it.Context)
			}
		}
		if c.ctx == nil && it.Context["originating_ip"] != "" {
			t.Errorf("%s: unexpected originating_ip", c.ioc)
		}
	}
	if it := find(t, items, "url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c"); it.Raw == "" {
		t.Error("the defanged text link has no Raw")
	}
}

// A message cut in the middle of its HTML part still gives its headers
// and text part, and an error wrapping ErrTruncated.
func TestReadEMLTruncated(t *testing.T) {
	full := mustRead(t, phishingEML)
	cut := full[:bytes.Index(full, []byte("Content-Transfer-Encoding: base64"))+200]
	items, err := read(t, "cut.eml", cut, Options{})
	assertInputError(t, err, "cut.eml", ErrTruncated, "eml: ")
	find(t, items, "ipv4:185.220.101.47")
	find(t, items, "url:https://login.secure-paypa1.com/webapps/auth?session=8f3a2c")
	for _, it := range items {
		if it.Type.IsHash() {
			t.Errorf("hash of a cut attachment: %v", it.IOC)
		}
	}
	// Cut inside the headers.
	items, err = read(t, "hdr.eml", full[:200], Options{Format: EML})
	if err != nil && !strings.Contains(err.Error(), "hdr.eml: eml: ") {
		t.Errorf("error %v does not name the input", err)
	}
	find(t, items, "email:bounce-7731@mail.secure-paypa1.com")
}

func TestReadEMLNestedAndCharset(t *testing.T) {
	inner := "From: Attacker <boss@ceo-office.biz>\r\nSubject: wire\r\nContent-Type: text/plain\r\n\r\nPay to hxxp://pay-now[.]top/inv\r\n"
	latin := base64.StdEncoding.EncodeToString([]byte("Caf\xe9: http://caf\xe9-rouge.fr/menu"))
	msg := "From: Helpdesk <helpdesk@northwind-traders.com>\r\n" +
		"Subject: Fwd: =?ISO-8859-1?Q?Re=3A_invoice_185=2E220=2E101=2E47?=\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n" + latin + "\r\n" +
		"--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"orig.eml\"\r\n\r\n" + inner +
		"--b1--\r\n"
	items, err := read(t, "fwd.eml", []byte(msg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items,
		"email:helpdesk@northwind-traders.com", "domain:northwind-traders.com", "ipv4:185.220.101.47",
		"url:http://xn--caf-rouge-d4a.fr/menu", "domain:xn--caf-rouge-d4a.fr",
		"email:boss@ceo-office.biz", "domain:ceo-office.biz", "url:http://pay-now.top/inv", "domain:pay-now.top")
	if p := find(t, items, "email:boss@ceo-office.biz").Path; p != "rfc822:orig.eml/header:From" {
		t.Errorf("nested path %q", p)
	}
	if p := find(t, items, "ipv4:185.220.101.47").Path; p != "header:Subject" {
		t.Errorf("subject path %q", p)
	}
}

func TestReadEMLDeepNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@example.com\r\n")
	for i := 0; i < 30; i++ {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b" + strings.Repeat("x", i) + "\"\r\n\r\n--b" + strings.Repeat("x", i) + "\r\n")
	}
	b.WriteString("Content-Type: text/plain\r\n\r\n8.8.8.8\r\n")
	items, err := read(t, "deep.eml", []byte(b.String()), Options{})
	assertInputError(t, err, "deep.eml", ErrMalformed, "nested deeper")
	find(t, items, "email:a@example.com")
}

func TestReadEMLNotMail(t *testing.T) {
	_, err := read(t, "junk.eml", []byte("\x00\x01 this is not mail\r\n\r\n"), Options{})
	assertInputError(t, err, "junk.eml", ErrMalformed, "not an e-mail")
}

func TestReadEMLHTMLLinks(t *testing.T) {
	html := `<html><body>
<a href="https://bit-ly-secure.top/x">Microsoft 365: <b>login.microsoftonline.com</b></a>
<a href="https://www.northwind-traders.com/a">northwind-traders.com</a>
<a href="mailto:support@helpdesk-portal.info?subject=x">mail us</a>
<form action="https://collect.formspark-data.xyz/p"></form>
<img src="http://track.mailpx.net/o.gif">
<meta http-equiv="refresh" content="0; URL='https://redir.evil-cdn.ru/r'">
<a href="#top">https://www.paypal.com</a> <a href="javascript:void(0)">x</a>
</body></html>`
	msg := "From: a@example.com\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		strings.ReplaceAll(html, "=", "=3D")
	items, err := read(t, "links.eml", []byte(msg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSet(t, items, "email:a@example.com", "domain:example.com",
		"url:https://bit-ly-secure.top/x", "domain:bit-ly-secure.top", "domain:login.microsoftonline.com",
		"url:https://www.northwind-traders.com/a", "domain:www.northwind-traders.com", "domain:northwind-traders.com",
		"email:support@helpdesk-portal.info", "domain:helpdesk-portal.info",
		"url:https://collect.formspark-data.xyz/p", "domain:collect.formspark-data.xyz",
		"url:http://track.mailpx.net/o.gif", "domain:track.mailpx.net",
		"url:https://redir.evil-cdn.ru/r", "domain:redir.evil-cdn.ru",
		"url:https://www.paypal.com", "domain:www.paypal.com")
	bad := find(t, items, "url:https://bit-ly-secure.top/x")
	if bad.Context["mismatch"] != "true" || bad.Context["link_text_domain"] != "login.microsoftonline.com" {
		t.Errorf("deceptive link not flagged: %v", bad.Context)
	}
	if c := find(t, items, "url:https://www.northwind-traders.com/a").Context; c["mismatch"] != "" {
		t.Errorf("same-site link flagged: %v", c)
	}
	if c := find(t, items, "url:https://collect.formspark-data.xyz/p").Context; c["html"] != "form[action]" {
		t.Errorf("form context %v", c)
	}
}
