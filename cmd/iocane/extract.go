package main

import (
	"github.com/spf13/cobra"

	"github.com/iocane/iocane/internal/extract"
	"github.com/iocane/iocane/internal/input"
)

func init() { addCommand(newExtractCmd) }

func newExtractCmd() *cobra.Command {
	var format, inFormat, column, types string
	var maxSize int64
	var maxDistinct int
	c := &cobra.Command{
		Use:   "extract [FILE...]",
		Short: "Extract IOCs from text, SIEM alerts, e-mails, STIX, MISP or CSV",
		Long: `extract finds the indicators of compromise in each FILE (standard input when
there is none, or for "-") and prints each once: refanged, normalised and
deduplicated across the whole run. The host of every URL and e-mail address
is printed too, as a domain or IP. Internal and reserved values are printed
with "internal": true and the reason; later stages never send them out.

The input format is detected from the file name and content, or set with
--input-format:
  text  anything; defanged forms (hxxps://, [.], [at]) are refanged. A
        binary (a NUL byte in its first 8 KiB: an executable, a dump) is
        read for its strings of 6 characters or more, ASCII, UTF-8 and
        UTF-16LE, as strings(1) shows them
  json  SIEM alerts (Splunk webhook, Elastic) or any JSON / JSON Lines;
        "path" is the JSON path the IOC came from
  eml   an e-mail: sender addresses, Received chain (the originating public
        IP has context.originating_ip), URLs in text and HTML (a link whose
        text shows another domain has context.mismatch), attachment hashes
  stix  a STIX 2.1 bundle: indicator patterns and observables, with TLP
  misp  a MISP event: attributes and object attributes, with TLP tags
  csv   the IOC column is detected, or named with --column

A file that cannot be read, or is malformed, is reported on stderr and the
exit status is 1, but the other files are still read and their IOCs printed.`,
		Example: `  # IOCs in a phishing e-mail, one JSON object per line
  iocane extract suspicious.eml

  # From a pasted report on standard input, one value per line
  pbpaste | iocane extract --format text

  # Only the IPs and URLs of a Splunk alert
  iocane extract --types ipv4,ipv6,url alert.json

  # The "indicator" column of a CSV export, as CSV
  iocane extract --column indicator --format csv feed.csv

  # A JSON array of everything in several files
  iocane extract --format json report.txt bundle.json event.json`,
		RunE: func(c *cobra.Command, args []string) error {
			inf, err := input.ParseFormat(inFormat)
			if err != nil {
				return usagef("--input-format: %v", err)
			}
			want, err := extract.ParseTypes(types)
			if err != nil {
				return usagef("--types: %v", err)
			}
			if err := extract.CheckFormat(format); err != nil {
				return usagef("--format: %v", err)
			}
			if maxDistinct < 0 {
				return usagef("--max-distinct: %d is negative (0 means no limit)", maxDistinct)
			}
			if len(args) == 0 {
				args = []string{"-"}
			}
			return extract.Run(c.Context(), args, c.OutOrStdout(), extract.Options{
				Format: format, Types: want, MaxDistinct: maxDistinct,
				Input: input.Options{Format: inf, Column: column, MaxSize: maxSize},
				Stdin: c.InOrStdin(), Warn: c.ErrOrStderr(),
			})
		},
	}
	f := c.Flags()
	f.StringVar(&format, "format", "jsonl", "output format: jsonl, json (one array), csv (with a header) or text (one value per line)")
	f.StringVar(&inFormat, "input-format", "auto", "input format: auto, text, json, eml, stix, misp or csv")
	f.StringVar(&column, "column", "", "CSV: the column holding IOCs, by header name or 1-based index (default: detected)")
	f.StringVar(&types, "types", "", "only these IOC types, comma-separated (e.g. ipv4,ipv6,url,sha256)")
	f.Int64Var(&maxSize, "max-size", input.DefaultMaxSize, "largest e-mail, STIX or MISP document read, in bytes")
	f.IntVar(&maxDistinct, "max-distinct", extract.DefaultMaxDistinct, "most distinct IOCs remembered to print each once (about 50 bytes each); later ones may print more than once; 0: no limit")
	return c
}
