package input

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
)

// csvSample is how many records decide the IOC columns.
const csvSample = 50

// iocColumns are header names (lower case, spaces and dashes as "_") that
// hold IOCs.
var iocColumns = map[string]bool{
	"ioc": true, "iocs": true, "indicator": true, "indicators": true, "indicator_value": true, "value": true,
	"observable": true, "observable_value": true, "ioc_value": true,
	"ip": true, "ip_address": true, "ipaddress": true, "ipv4": true, "ipv6": true, "src_ip": true, "dst_ip": true,
	"source_ip": true, "destination_ip": true, "srcip": true, "dstip": true, "remote_ip": true, "client_ip": true,
	"domain": true, "domain_name": true, "hostname": true, "host": true, "fqdn": true,
	"url": true, "uri": true, "hash": true, "md5": true, "sha1": true, "sha256": true, "sha512": true,
	"file_hash": true, "filehash": true, "email": true, "email_address": true, "sender": true, "cve": true,
}

// readCSV reads CSV (comma, semicolon or tab separated, sniffed from the
// first line). The IOC columns are Options.Column (a header name or a
// 1-based index), else the columns whose header names an IOC (ioc,
// indicator, value, ip, domain, url, hash ...), else the columns where at
// least half of the first 50 cells parse as an IOC, else every column.
// Paths read "row 12 col url": the record number counting a header as row 1,
// and the column's header name or 1-based index.
func readCSV(r io.Reader, rn *run) error {
	cr := csv.NewReader(&lineGuard{r: r, max: rn.tokenLimit()})
	cr.FieldsPerRecord = -1
	if br, ok := r.(*bufio.Reader); ok {
		head, _ := br.Peek(sniffSize)
		cr.Comma = sniffComma(head)
	}
	var sample [][]string
	row := 0
	var readErr error
	for len(sample) < csvSample {
		rec, err := cr.Read()
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		sample = append(sample, rec)
	}
	if len(sample) == 0 {
		return rn.csvError(readErr, len(sample)+1)
	}
	cols, names, header, err := csvColumns(sample, rn.opt.Column)
	if err != nil {
		return rn.errorf("", "%v", err)
	}
	do := func(rec []string) bool {
		row++
		if header && row == 1 {
			return true
		}
		for _, c := range cols {
			if c >= len(rec) || rec[c] == "" {
				continue
			}
			if !rn.extract([]byte(rec[c]), "row "+strconv.Itoa(row)+" col "+names[c], "", nil) {
				return false
			}
		}
		return true
	}
	for _, rec := range sample {
		if !do(rec) {
			return nil
		}
	}
	if readErr != nil {
		return rn.csvError(readErr, row+1)
	}
	if len(sample) < csvSample {
		return nil
	}
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return rn.csvError(err, row+1)
		}
		if !do(rec) {
			return nil
		}
	}
}

// csvError names the row (and line and column) of a CSV problem.
func (rn *run) csvError(err error, row int) error {
	if err == nil || err == io.EOF {
		return nil
	}
	var pe *csv.ParseError
	switch {
	case errors.Is(err, ErrTooLarge):
		return rn.errorf("row "+strconv.Itoa(row), "%w: a line is longer than %d bytes", ErrTooLarge, rn.tokenLimit())
	case errors.As(err, &pe):
		return rn.errorf(fmt.Sprintf("row %d (line %d, column %d)", row, pe.Line, pe.Column), "%w: %v", ErrMalformed, pe.Err)
	}
	return rn.wrap("row "+strconv.Itoa(row), err)
}

// csvColumns picks the IOC columns; names are the labels paths use.
func csvColumns(sample [][]string, want string) (cols []int, names map[int]string, header bool, err error) {
	width := 0
	for _, r := range sample {
		width = max(width, len(r))
	}
	first := sample[0]
	names = map[int]string{}
	for c := 0; c < width; c++ {
		names[c] = strconv.Itoa(c + 1)
	}
	useHeader := func() {
		header = true
		for c, n := range first {
			if n = strings.TrimSpace(n); n != "" {
				names[c] = n
			}
		}
	}
	if want != "" {
		for c, n := range first {
			if strings.EqualFold(strings.TrimSpace(n), strings.TrimSpace(want)) {
				useHeader()
				return []int{c}, names, true, nil
			}
		}
		k, aerr := strconv.Atoi(strings.TrimSpace(want))
		if aerr != nil || k < 1 || k > width {
			return nil, nil, false, fmt.Errorf("column %q: no such header name, and not an index from 1 to %d", want, width)
		}
		if _, perr := ioc.Parse(strings.TrimSpace(at(first, k-1))); perr != nil && len(sample) > 1 {
			useHeader()
		}
		return []int{k - 1}, names, header, nil
	}
	for c, n := range first {
		if iocColumns[headerKey(n)] {
			cols = append(cols, c)
		}
	}
	if len(cols) > 0 {
		useHeader()
		return cols, names, true, nil
	}
	// No telling header: the columns where most cells are IOCs.
	body := sample
	if len(sample) > 1 {
		body = sample[1:]
	}
	for c := 0; c < width; c++ {
		hits := 0
		for _, r := range body {
			if _, perr := ioc.Parse(strings.TrimSpace(at(r, c))); perr == nil {
				hits++
			}
		}
		if hits > 0 && hits*2 >= len(body) {
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 {
		for c := 0; c < width; c++ {
			cols = append(cols, c)
		}
	}
	header = len(sample) > 1
	for _, c := range cols {
		if _, perr := ioc.Parse(strings.TrimSpace(at(first, c))); perr == nil {
			header = false
		}
	}
	if header {
		useHeader()
	}
	return cols, names, header, nil
}

func at(r []string, i int) string {
	if i < len(r) {
		return r[i]
	}
	return ""
}

func headerKey(n string) string {
	n = strings.ToLower(strings.TrimSpace(strings.Trim(n, "\ufeff")))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(n)
}

// sniffComma picks the separator most frequent on the first line.
func sniffComma(head []byte) rune {
	line, _, _ := bytes.Cut(head, []byte{'\n'})
	best, n := ',', bytes.Count(line, []byte{','})
	for _, c := range []rune{';', '\t', '|'} {
		if k := bytes.Count(line, []byte{byte(c)}); k > n {
			best, n = c, k
		}
	}
	return best
}

// lineGuard fails with ErrTooLarge when one line exceeds max bytes, so a
// 200 MB line is never buffered whole.
type lineGuard struct {
	r   io.Reader
	max int64
	run int64
}

func (g *lineGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			g.run = 0
			continue
		}
		g.run++
		if g.run > g.max {
			return i, ErrTooLarge
		}
	}
	return n, err
}
