package ioc

import (
	"encoding/binary"
	"testing"
)

func TestMayTriggerExhaustivePairs(t *testing.T) {
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			var w [8]byte
			for k := range w {
				w[k] = 'x'
			}
			w[a%8] = byte(b)
			w[(a+3)%8] = byte(a)
			want := trigger[w[a%8]] || trigger[w[(a+3)%8]]
			if !want {
				for _, c := range w {
					want = want || trigger[c]
				}
			}
			if want && !mayTrigger(binary.LittleEndian.Uint64(w[:])) {
				t.Fatalf("mayTrigger(%q) = false", w)
			}
		}
	}
}
