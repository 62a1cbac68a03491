package input

import (
	"bufio"
	"errors"
	"io"

	"github.com/iocane/iocane/internal/ioc"
)

// errStop ends a streaming scan once emit has failed.
var errStop = errors.New("input: stop")

// stopReader ends the stream once the run has stopped.
type stopReader struct {
	r  io.Reader
	rn *run
}

func (s *stopReader) Read(p []byte) (int, error) {
	if s.rn.emitErr != nil {
		return 0, errStop
	}
	return s.r.Read(p)
}

// readText scans plain text with the streaming scanner, which holds a
// bounded window however long a line is. Invalid UTF-8 is scanned best
// effort; binary input only for its strings, as strings(1) shows them
// (stringsReader).
func readText(br *bufio.Reader, rn *run) error {
	var r io.Reader = br
	if head, _ := br.Peek(sniffSize); isBinary(head) {
		r = newStringsReader(br)
	}
	err := ioc.ExtractReader(&stopReader{r: r, rn: rn}, func(m ioc.Match) {
		rn.send(Item{IOC: m.IOC, Raw: m.Raw})
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return rn.wrap("", err)
}
