//go:build ignore

// phishing_gen writes examples/phishing.eml, a realistic credential
// phishing message used by the README demo and by cmd/iocane's extract
// test, and prints its attachment's hashes on stderr:
//
//	go run examples/phishing_gen.go > examples/phishing.eml
//
// Everything is deterministic (fixed boundaries, dates and zip times), so
// the file and the hashes only change when this program does.
package main

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"mime/quotedprintable"
	"os"
	"strings"
	"time"
)

const headers = `Return-Path: <bounce-7731@mail.secure-paypa1.com>
Received: from mail-gw01.northwind.local (10.20.1.15) by
 exch02.northwind.local (10.20.1.22) with Microsoft SMTP Server
 (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.2.1118.40;
 Tue, 3 Jun 2025 09:14:27 +0000
Received: from smtp.secure-paypa1.com (smtp.secure-paypa1.com [185.220.101.47])
	by mail-gw01.northwind.local (Postfix) with ESMTPS id 4bX9k2Lmq7z3
	for <j.doe@northwind-traders.com>; Tue, 3 Jun 2025 09:14:25 +0000 (UTC)
Received: from [192.168.56.10] (unknown [192.168.56.10])
	by smtp.secure-paypa1.com (Postfix) with ESMTPSA id 8C1F2A0334
	for <j.doe@northwind-traders.com>; Tue, 3 Jun 2025 09:14:21 +0000 (UTC)
From: "PayPal Service" <service@secure-paypa1.com>
Reply-To: PayPal Resolution Center <resolution@account-verify-center.net>
To: Jane Doe <j.doe@northwind-traders.com>
Subject: =?UTF-8?Q?Action_required=3A_your_account_has_been_limited?=
Date: Tue, 3 Jun 2025 09:14:20 +0000
Message-ID: <20250603091421.8C1F2A0334@smtp.secure-paypa1.com>
MIME-Version: 1.0
X-Mailer: Microsoft Outlook 16.0
Content-Type: multipart/mixed; boundary="=_mixed_7c1e9a"
`

const text = `Dear customer,

We noticed unusual activity on your PayPal account and have limited it
until you confirm your details. To restore full access, sign in within 24
hours at hxxps://login.secure-paypa1[.]com/webapps/auth?session=8f3a2c and follow the steps.
The case file is attached (PayPal_Case_PP-4471-2290.zip).

Thank you,
PayPal Resolution Center
`

const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>PayPal</title></head>
<body style="font-family:Arial,sans-serif">
<p>Dear customer,</p>
<p>We noticed unusual activity on your PayPal account and have limited it until
you confirm your details.</p>
<p>To restore full access, sign in within 24 hours:
<a href="https://login.secure-paypa1.com/webapps/auth?session=8f3a2c">https://www.paypal.com/signin</a></p>
<p>The case file is attached.</p>
<p style="font-size:11px;color:#888">Don&#39;t want these e-mails?
<a href="http://account-verify-center.net/u/7731?src=mail">Unsubscribe</a></p>
</body></html>
`

func main() {
	zipBytes := buildZip()
	var b strings.Builder
	b.WriteString(headers)
	b.WriteString("\nThis is a multi-part message in MIME format.\n\n")
	b.WriteString("--=_mixed_7c1e9a\nContent-Type: multipart/alternative; boundary=\"=_alt_52d0f4\"\n\n")

	b.WriteString("--=_alt_52d0f4\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n")
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(text))
	w.Close()
	b.WriteString(strings.ReplaceAll(qp.String(), "\r\n", "\n"))
	b.WriteString("\n\n")

	b.WriteString("--=_alt_52d0f4\nContent-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: base64\n\n")
	b.WriteString(wrap(base64.StdEncoding.EncodeToString([]byte(html))))
	b.WriteString("--=_alt_52d0f4--\n\n")

	b.WriteString("--=_mixed_7c1e9a\nContent-Type: application/zip; name=\"PayPal_Case_PP-4471-2290.zip\"\n")
	b.WriteString("Content-Disposition: attachment; filename=\"PayPal_Case_PP-4471-2290.zip\"\nContent-Transfer-Encoding: base64\n\n")
	b.WriteString(wrap(base64.StdEncoding.EncodeToString(zipBytes)))
	b.WriteString("--=_mixed_7c1e9a--\n")
	os.Stdout.WriteString(strings.ReplaceAll(b.String(), "\n", "\r\n"))

	fmt.Fprintf(os.Stderr, "attachment PayPal_Case_PP-4471-2290.zip (%d bytes)\nmd5    %x\nsha1   %x\nsha256 %x\n",
		len(zipBytes), md5.Sum(zipBytes), sha1.Sum(zipBytes), sha256.Sum256(zipBytes))
}

// buildZip makes the attachment: a stored (uncompressed) zip holding a
// harmless stand-in for a JavaScript dropper.
func buildZip() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "PayPal_Case_PP-4471-2290.pdf.js", Method: zip.Store,
		Modified: time.Date(2025, 6, 3, 8, 55, 0, 0, time.UTC)}
	f, err := zw.CreateHeader(h)
	if err != nil {
		panic(err)
	}
	f.Write([]byte("// iocane test sample: harmless stand-in for a JScript dropper.\n" +
		"var u = 'hxxp://cdn-update.secure-paypa1[.]com/payload/stage2.bin';\nWScript.Echo('case PP-4471-2290');\n"))
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func wrap(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s + "\n")
	return b.String()
}
