package csv_test

import (
	"bytes"
	enccsv "encoding/csv"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output"
	csvout "github.com/iocane/iocane/internal/output/csv"
	"github.com/iocane/iocane/internal/output/outputtest"
	"github.com/iocane/iocane/internal/result"
)

func TestGolden(t *testing.T) {
	got := outputtest.Render(t, "csv", outputtest.Options(), outputtest.Results())
	outputtest.Golden(t, "results.csv", got)
	rows, err := enccsv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(outputtest.Results()) {
		t.Fatalf("%d rows", len(rows))
	}
	url := rows[4]
	if url[1] != "http://login-paypa1.example.com/verify?id=1&next='home'" || url[2] != "suspicious" || url[5] != "2" {
		t.Errorf("url row %q", url)
	}
	if rows[1][8] != "virustotal:ok;abuseipdb:ok;shodan:not_found;urlscan:skipped" {
		t.Errorf("sources cell %q", rows[1][8])
	}
}

func TestFormulaDefused(t *testing.T) {
	r := result.Result{IOC: ioc.IOC{Type: ioc.Domain, Value: "x.example"}, Reasons: []string{"=HYPERLINK(\"http://evil\")"}}
	got := outputtest.Render(t, "csv", output.Options{}, []result.Result{r})
	rows, err := enccsv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][7] != "'=HYPERLINK(\"http://evil\")" {
		t.Errorf("formula cell %q", rows[1][7])
	}
}

// An IOC value that starts with a formula character (an e-mail address
// may start with + or -) is quoted, never altered: it reads back as it was,
// and its raw cell starts with a quote, so no spreadsheet runs it.
func TestFormulaValueQuotedNotAltered(t *testing.T) {
	for _, v := range []string{"+alerts@example.com", "-x@example.com", "=1@example.com"} {
		r := result.Result{IOC: ioc.IOC{Type: ioc.Email, Value: v}}
		got := outputtest.Render(t, "csv", output.Options{}, []result.Result{r})
		rows, err := enccsv.NewReader(bytes.NewReader(got)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if rows[1][1] != v {
			t.Errorf("value %q came back as %q", v, rows[1][1])
		}
		if !bytes.Contains(got, []byte("\r\nemail,\""+v+"\",")) {
			t.Errorf("value %q is not quoted: %q", v, got)
		}
	}
}

func TestEmptyHasHeader(t *testing.T) {
	got := outputtest.Render(t, "csv", output.Options{}, nil)
	if want := "type,value,verdict,score,confidence,dbot_score,tlp,reasons,sources,enriched_at\r\n"; string(got) != want {
		t.Errorf("got %q", got)
	}
	_ = csvout.Header
}
