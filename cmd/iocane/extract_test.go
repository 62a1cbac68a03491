package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/extract"
)

// runExtract runs `iocane extract args...` with stdin and returns stdout,
// stderr and the error Execute returned.
func runExtract(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"extract"}, args...))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func decodeJSONL(t *testing.T, s string) []extract.Record {
	t.Helper()
	var recs []extract.Record
	dec := json.NewDecoder(strings.NewReader(s))
	for dec.More() {
		var r extract.Record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("output is not JSONL: %v\n%s", err, s)
		}
		recs = append(recs, r)
	}
	return recs
}

func values(recs []extract.Record, typ string) []string {
	var v []string
	for _, r := range recs {
		if string(r.Type) == typ {
			v = append(v, r.Value)
		}
	}
	slices.Sort(v)
	return v
}

func record(t *testing.T, recs []extract.Record, typ, value string) extract.Record {
	t.Helper()
	for _, r := range recs {
		if string(r.Type) == typ && r.Value == value {
			return r
		}
	}
	t.Fatalf("%s %s not in the output", typ, value)
	return extract.Record{}
}

// Issue 2 acceptance 3: the phishing e-mail end to end.
func TestExtractPhishingEML(t *testing.T) {
	out, stderr, err := runExtract(t, "", "../../examples/phishing.eml")
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	recs := decodeJSONL(t, out)

	// The sender's look-alike domain, from From.
	from := record(t, recs, "email", "service@secure-paypa1.com")
	if from.Path != "header:From" || from.Source != "../../examples/phishing.eml" {
		t.Errorf("sender: %+v", from)
	}
	record(t, recs, "domain", "secure-paypa1.com")
	record(t, recs, "domain", "account-verify-center.net") // Reply-To

	// The originating public IP of the Received chain.
	orig := record(t, recs, "ipv4", "185.220.101.47")
	if orig.Context["originating_ip"] != "true" || orig.Internal {
		t.Errorf("originating IP: %+v", orig)
	}
	for _, r := range recs {
		if r.Context["originating_ip"] == "true" && r.Value != "185.220.101.47" {
			t.Errorf("%s marked originating too", r.Value)
		}
	}
	if hop := record(t, recs, "ipv4", "10.20.1.15"); !hop.Internal || hop.InternalReason == "" {
		t.Errorf("internal hop not marked: %+v", hop)
	}

	// Every URL, exactly: the defanged text link, the deceptive HTML link
	// (same URL), the URL its text shows, and the unsubscribe link.
	wantURLs := []string{
		"http://account-verify-center.net/u/7731?src=mail",
		"https://login.secure-paypa1.com/webapps/auth?session=8f3a2c",
		"https://www.paypal.com/signin",
	}
	if got := values(recs, "url"); !slices.Equal(got, wantURLs) {
		t.Errorf("URLs:\n got  %q\n want %q", got, wantURLs)
	}
	link := record(t, recs, "url", "https://login.secure-paypa1.com/webapps/auth?session=8f3a2c")
	if link.Raw != "hxxps://login.secure-paypa1[.]com/webapps/auth?session=8f3a2c" ||
		link.Context["mismatch"] != "true" || link.Context["link_text_domain"] != "www.paypal.com" {
		t.Errorf("deceptive link: %+v", link)
	}

	// The zip attachment's three hashes (examples/phishing_gen.go prints them).
	for typ, v := range map[string]string{
		"md5":    "6a866ee787c6ef8cadd92b515b860ba2",
		"sha1":   "c5ac3ae379247957f07a16cc1ee9e13b66d81da1",
		"sha256": "d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616",
	} {
		h := record(t, recs, typ, v)
		if h.Context["filename"] != "PayPal_Case_PP-4471-2290.zip" || h.Path != "attachment:PayPal_Case_PP-4471-2290.zip" {
			t.Errorf("%s: %+v", typ, h)
		}
		if got := values(recs, typ); len(got) != 1 {
			t.Errorf("%s: %q, want only the attachment's", typ, got)
		}
	}
}

func TestExtractDedupesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	os.WriteFile(a, []byte("hxxp://evil-c2[.]com/x and 185.220.101.47\n"), 0o600)
	out, _, err := runExtract(t, "185.220.101.47 evil-c2[.]com", a, "-", "../../examples/splunk_alert.json")
	if err != nil {
		t.Fatal(err)
	}
	recs := decodeJSONL(t, out)
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Type)+" "+r.Value]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s printed %d times", k, n)
		}
	}
	if r := record(t, recs, "ipv4", "185.220.101.47"); r.Source != a {
		t.Errorf("first source kept? %+v", r)
	}
	if r := record(t, recs, "sha256", "d40eb6767f3f524934c1d16daa9d8f1aebf51665bb0826e4416e741b4da9a616"); r.Path != "$.result.file_hash" {
		t.Errorf("JSON path: %+v", r)
	}
}

func TestExtractOutputFormats(t *testing.T) {
	in := "see hxxps://evil-c2[.]com/gate and 8.8.8.8"
	out, _, err := runExtract(t, in, "--format", "text")
	if err != nil {
		t.Fatal(err)
	}
	if out != "https://evil-c2.com/gate\nevil-c2.com\n8.8.8.8\n" {
		t.Errorf("text output %q", out)
	}

	out, _, err = runExtract(t, in, "--format", "json", "--types", "url,ipv4")
	if err != nil {
		t.Fatal(err)
	}
	var arr []extract.Record
	if err := json.Unmarshal([]byte(out), &arr); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	if len(arr) != 2 || arr[0].Value != "https://evil-c2.com/gate" || arr[0].Raw != "hxxps://evil-c2[.]com/gate" || arr[1].Value != "8.8.8.8" {
		t.Errorf("json output %+v", arr)
	}

	out, _, _ = runExtract(t, "", "--format", "json")
	if out != "[]\n" {
		t.Errorf("empty json output %q", out)
	}

	out, _, err = runExtract(t, "10.1.2.3", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv output %q: %v", out, err)
	}
	if strings.Join(rows[0], ",") != "type,value,raw,source,path,internal,internal_reason,tlp,context" ||
		rows[1][0] != "ipv4" || rows[1][1] != "10.1.2.3" || rows[1][3] != "-" || rows[1][5] != "true" || rows[1][6] == "" {
		t.Errorf("csv rows %q", rows)
	}
}

func TestExtractMissingFileStillPrintsOthers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("185.220.101.47"), 0o600)
	missing := filepath.Join(dir, "missing.eml")
	out, _, err := runExtract(t, "", missing, good)
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("error %v does not name %s", err, missing)
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		t.Errorf("a missing file is a run failure (exit 1), not bad usage: %v", err)
	}
	if !strings.Contains(out, `"value":"185.220.101.47"`) {
		t.Errorf("the readable file's IOCs are missing: %q", out)
	}
}

func TestExtractBadInputs(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "alert.json")
	os.WriteFile(bad, []byte("{\"src\": \"8.8.8.8\",\n \"dst\": oops}"), 0o600)
	out, _, err := runExtract(t, "", bad)
	if err == nil || !strings.Contains(err.Error(), bad+": json: line 2") {
		t.Errorf("malformed JSON error %v", err)
	}
	if !strings.Contains(out, "8.8.8.8") {
		t.Errorf("items before the error were lost: %q", out)
	}

	// A truncated e-mail: best effort, a warning, and success.
	full, _ := os.ReadFile("../../examples/phishing.eml")
	cut := filepath.Join(dir, "cut.eml")
	os.WriteFile(cut, full[:len(full)*2/3], 0o600)
	out, stderr, err := runExtract(t, "", cut)
	if err != nil || !strings.Contains(stderr, "warning: "+cut) || !strings.Contains(out, "185.220.101.47") {
		t.Errorf("truncated e-mail: err %v, stderr %q, out %q", err, stderr, out)
	}
}

func TestExtractUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--types", "ipv4,bogus"},
		{"--format", "xml"},
		{"--input-format", "pdf"},
	} {
		_, _, err := runExtract(t, "", args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: error %v is not a usage error", args, err)
		}
	}
	out, _, err := runExtract(t, "", "--help")
	if err != nil || !strings.Contains(out, "iocane extract suspicious.eml") || !strings.Contains(out, "--input-format") {
		t.Errorf("help does not teach: %v\n%s", err, out)
	}
}

func TestExtractCSVColumn(t *testing.T) {
	out, _, err := runExtract(t, "host,note\nevil-c2.com,8.8.8.8\n", "--input-format", "csv", "--column", "note", "--format", "text")
	if err != nil || out != "8.8.8.8\n" {
		t.Errorf("out %q, err %v", out, err)
	}
}

// --max-distinct bounds the memory of deduplication: the values seen before
// the limit are still printed once, later ones each time they come, and a
// warning says so once. A negative limit is a usage error.
func TestExtractMaxDistinct(t *testing.T) {
	line := "a1.example.net a2.example.net a3.example.net a4.example.net a5.example.net\n"
	out, errOut, err := runExtract(t, strings.Repeat(line, 3), "--format", "text", "--max-distinct", "3")
	if err != nil {
		t.Fatal(err)
	}
	want := "a1.example.net\na2.example.net\na3.example.net\na4.example.net\na5.example.net\n" +
		"a4.example.net\na5.example.net\na4.example.net\na5.example.net\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if strings.Count(errOut, "--max-distinct") != 1 {
		t.Errorf("stderr %q: want one warning naming --max-distinct", errOut)
	}

	// Without the limit (0), or under it, every value is printed once.
	for _, max := range []string{"0", "5"} {
		out, errOut, err = runExtract(t, strings.Repeat(line, 3), "--format", "text", "--max-distinct", max)
		if err != nil || strings.Count(out, "\n") != 5 || errOut != "" {
			t.Errorf("--max-distinct %s: %d lines, stderr %q, err %v; want 5 lines and no warning", max, strings.Count(out, "\n"), errOut, err)
		}
	}

	_, _, err = runExtract(t, line, "--max-distinct", "-1")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--max-distinct") {
		t.Errorf("--max-distinct -1: err = %v, want a usage error naming the flag", err)
	}
}
