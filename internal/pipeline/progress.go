package pipeline

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/enrich"
)

// progress draws one status line on stderr (a terminal) while a bulk run
// works: done/total, each busy provider's queue, and an ETA from the rate
// limits, since for a rate-limited provider the limit, not the network,
// decides when the run ends.
//
// When the results go to the same terminal, progress owns it: each result
// is written through row, which clears the status line, lets the result be
// written and draws the line again, so a row is never glued to it.
type progress struct {
	w     io.Writer
	width int
	p     *Pipeline
	fed   *enrich.Intake
	quit  chan struct{}
	wg    sync.WaitGroup
	t0    time.Time

	mu   sync.Mutex // serialises the terminal between draw and row
	last string     // the status line on screen, "" when none is
}

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[2K"

func startProgress(w io.Writer, width int, pl *Pipeline, fed *enrich.Intake) *progress {
	p := &progress{w: w, width: width, p: pl, fed: fed, quit: make(chan struct{}), t0: time.Now()}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				p.draw(true)
				return
			case <-tick.C:
				p.draw(false)
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
}

// row writes one result with the status line cleared, then draws the line
// again.
func (p *progress) row(write func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == "" {
		return write()
	}
	fmt.Fprint(p.w, clearLine)
	err := write()
	fmt.Fprint(p.w, p.last)
	return err
}

func (p *progress) draw(final bool) {
	done := p.p.Engine.Stats().Done()
	n := p.fed.Taken()
	total := "?"
	if p.fed.Complete() {
		total = fmt.Sprint(n)
	}
	var queues []string
	eta := time.Duration(0)
	depths := p.p.Engine.QueueDepths()
	names := make([]string, 0, len(depths))
	for name := range depths {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := depths[name]
		if d == 0 {
			continue
		}
		queues = append(queues, fmt.Sprintf("%s %d", name, d))
		for _, s := range p.p.Sources.Sources {
			if s.Spec.Name == name && !s.Rate.Unlimited() {
				if t := time.Duration(d) * s.Rate.Interval(); t > eta {
					eta = t
				}
			}
		}
	}
	line := fmt.Sprintf("%d/%s IOCs  %s", done, total, time.Since(p.t0).Round(time.Second))
	if len(queues) > 0 {
		line += "  queued: " + strings.Join(queues, ", ")
	}
	if eta > 0 {
		line += "  ETA ≥ " + eta.Round(time.Second).String()
	}
	if r := []rune(line); p.width > 1 && len(r) > p.width-1 {
		line = string(r[:p.width-2]) + "…"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if final {
		fmt.Fprint(p.w, clearLine+line+"\n")
		p.last = ""
		return
	}
	fmt.Fprint(p.w, clearLine+line)
	p.last = line
}
