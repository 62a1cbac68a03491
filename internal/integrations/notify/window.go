package notify

import "time"

// window is a sliding-window limit: at most n sends in any span of per.
// Not safe for concurrent use.
type window struct {
	n    int
	per  time.Duration
	sent []time.Time // oldest first, at most n
}

// take records a send at now and reports true when the window allows it.
func (w *window) take(now time.Time) bool {
	if w.n <= 0 || w.per <= 0 {
		return true
	}
	w.prune(now)
	if len(w.sent) >= w.n {
		return false
	}
	w.sent = append(w.sent, now)
	return true
}

// available is the number of sends allowed at now.
func (w *window) available(now time.Time) int {
	if w.n <= 0 || w.per <= 0 {
		return int(^uint(0) >> 1)
	}
	w.prune(now)
	return w.n - len(w.sent)
}

// next is when the next send will be allowed (now when one is).
func (w *window) next(now time.Time) time.Time {
	if w.available(now) > 0 {
		return now
	}
	return w.sent[0].Add(w.per)
}

func (w *window) prune(now time.Time) {
	i := 0
	for i < len(w.sent) && now.Sub(w.sent[i]) >= w.per {
		i++
	}
	w.sent = append(w.sent[:0], w.sent[i:]...)
}
