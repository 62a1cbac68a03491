// Command gen1m writes N distinct IOCs, one a line, for the bulk-run memory
// benchmark (issue 4 acceptance 4): public IPv4s, domains, SHA-256 hashes
// and defanged URLs in turn. Each URL also yields its host, so N lines give
// about 1.25 N IOCs. Output is deterministic.
package main

import (
	"bufio"
	"crypto/md5"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of lines")
	out := flag.String("out", "bench/corpus/1m.txt", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen1m:", err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range *n {
		switch i % 4 {
		case 0:
			// 11.x-223.x avoids 0/8, 10/8, 127/8 and multicast; a repeat
			// is possible and simply deduplicated.
			fmt.Fprintf(w, "%d.%d.%d.%d\n", 11+r.IntN(213), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		case 1:
			h := md5.Sum([]byte(fmt.Sprint(i)))
			fmt.Fprintf(w, "host%d-%x.example-%d.com\n", i, h[:3], i%997)
		case 2:
			fmt.Fprintf(w, "%x\n", sha256.Sum256([]byte(fmt.Sprint(i))))
		default:
			fmt.Fprintf(w, "hxxps://cdn%d.bad-%d[.]net/p/%d.php\n", i, i%5000, i)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen1m:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gen1m:", err)
		os.Exit(1)
	}
}
