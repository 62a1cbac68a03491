package server

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Go's HTTP server answers a request it cannot parse (a malformed header, a
// header block over MaxHeaderBytes, an unsupported transfer encoding) itself,
// before any handler runs, with a plain-text body and no X-Request-Id. It
// writes that answer to the connection in one Write, in this exact shape:
//
//	HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: <why>
//
// problemListener rewrites such a Write into a problem+json answer with a
// request id, as every other error of the API is. Nothing else is touched:
// the handlers' answers always carry X-Request-Id and never this shape.
type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c}, nil
}

type problemConn struct{ net.Conn }

// goErrorHeaders is what Go's server puts between the status line and the
// body of its own error answers.
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *problemConn) Write(p []byte) (int, error) {
	if q, ok := rewriteProtocolError(p); ok {
		if _, err := c.Conn.Write(q); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// rewriteProtocolError returns the problem+json form of one of Go's own
// plain-text error answers, or false when p is not one.
func rewriteProtocolError(p []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok {
		return nil, false
	}
	statusLine, body, ok := bytes.Cut(rest, []byte(goErrorHeaders))
	if !ok || bytes.ContainsAny(statusLine, "\r\n") {
		return nil, false
	}
	code, err := strconv.Atoi(string(statusLine[:min(3, len(statusLine))]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	detail := strings.TrimSpace(string(body))
	if _, why, found := strings.Cut(detail, ": "); found {
		detail = why
	}
	id := rand.Text()
	prob, _ := json.Marshal(Problem{Type: problemBase + probBadRequest, Title: http.StatusText(code), Status: code,
		Detail: "the request could not be parsed: " + detail, Instance: id})
	prob = append(prob, '\n')
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %s\r\nContent-Type: application/problem+json\r\nX-Content-Type-Options: nosniff\r\n", statusLine)
	fmt.Fprintf(&b, "X-Request-Id: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", id, len(prob))
	b.Write(prob)
	return b.Bytes(), true
}
