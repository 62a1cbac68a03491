package ioc

import (
	"bytes"
	"fmt"
	"io"
)

// chunkSize is how much ExtractReader scans at a time; tests lower it.
var chunkSize = 1 << 20

// ExtractReader is Extract over a stream, in bounded memory: it reads about
// a megabyte at a time and cuts the stream only where no indicator or defang
// form can span the cut (a line break, a control byte, a quote or angle
// bracket, or a space between two ordinary words). A stretch of a megabyte
// without any such place is cut at the last other separator, and a single
// run of host-name bytes longer than that is skipped, as Extract skips every
// candidate longer than MaxToken. Offsets are relative to the start of r.
func ExtractReader(r io.Reader, emit func(Match)) error {
	var s scanner
	// The buffer starts small, so that the many small inputs (one alert,
	// one e-mail) cost little, and grows to chunkSize.
	buf := make([]byte, 0, min(chunkSize, 64<<10))
	var base int64
	skipping := false
	eof := false
	for {
		for !eof && len(buf) < chunkSize {
			if len(buf) == cap(buf) {
				nb := make([]byte, len(buf), min(2*cap(buf), chunkSize))
				copy(nb, buf)
				buf = nb
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return fmt.Errorf("ioc: read: %w", err)
			}
		}
		if skipping {
			k := 0
			for k < len(buf) && (buf[k] >= 0x80 || class[buf[k]]&cHost != 0) {
				k++
			}
			base += int64(k)
			buf = buf[:copy(buf, buf[k:])]
			if len(buf) > 0 {
				skipping = false
			} else if eof {
				return nil
			} else {
				continue
			}
		}
		if eof {
			s.extract(buf, base, emit)
			return nil
		}
		cut := safeCut(buf)
		if cut <= 0 {
			// One run of host-name bytes fills the buffer: skip it whole.
			base += int64(len(buf))
			buf = buf[:0]
			skipping = true
			continue
		}
		s.extract(buf[:cut], base, emit)
		base += int64(cut)
		buf = buf[:copy(buf, buf[cut:])]
	}
}

// safeCut returns the length of the prefix of buf that can be scanned on
// its own, or 0 when buf is one run of host-name bytes.
func safeCut(buf []byte) int {
	if k := bytes.LastIndexByte(buf, '\n'); k >= 0 {
		return k + 1
	}
	for k := len(buf) - 1; k >= 0; k-- {
		c := buf[k]
		if c < 0x20 && c != '\t' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '|' {
			return k + 1
		}
		if (c == ' ' || c == '\t') && quietGap(buf, k) {
			return k + 1
		}
	}
	if k := bytes.LastIndexAny(buf, " \t"); k >= 0 {
		return k + 1
	}
	for k := len(buf) - 1; k >= 0; k-- {
		if c := buf[k]; c < 0x80 && class[c]&cHost == 0 {
			return k + 1
		}
	}
	return 0
}

// quietGap reports whether the blank at buf[k] separates two ordinary words:
// neither is "at", "dot" or "ASN" and neither holds a bracket, so no spaced
// defang form or spaced e-mail address crosses it.
func quietGap(buf []byte, k int) bool {
	return quietWord(wordBefore(buf, k)) && quietWord(wordAfter(buf, k+1))
}

func wordBefore(buf []byte, k int) []byte {
	s := k
	for s > 0 && k-s < 8 && buf[s-1] != ' ' && buf[s-1] != '\t' {
		s--
	}
	return buf[s:k]
}

func wordAfter(buf []byte, k int) []byte {
	e := k
	for e < len(buf) && e-k < 8 && buf[e] != ' ' && buf[e] != '\t' {
		e++
	}
	return buf[k:e]
}

func quietWord(w []byte) bool {
	if foldEq(w, "at") || foldEq(w, "dot") || foldEq(w, "asn") || len(w) == 0 {
		return false
	}
	return bytes.IndexAny(w, "[]{}()") < 0
}
