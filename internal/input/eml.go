package input

import (
	"bufio"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/iocane/iocane/internal/ioc"
)

// maxMIMEDepth caps multipart nesting and nested message/rfc822 depth.
const maxMIMEDepth = 10

// maxParts caps the MIME parts read from one message.
const maxParts = 1000

// addressHeaders are the sender-side headers whose addresses (and their
// domains) are IOCs of a phishing mail. Recipients are the victims and are
// left out.
var addressHeaders = []string{"From", "Sender", "Reply-To", "Return-Path"}

var wordDecoder = mime.WordDecoder{CharsetReader: charsetReader}

// readEML reads an RFC 5322 message with MIME parts, for a phishing
// mailbox: sender addresses and domains, the Received chain with the
// originating public IP marked, URLs in text and HTML parts (href targets,
// with a link whose text shows another domain flagged), attachments as
// md5/sha1/sha256, and nested messages. A truncated or broken message gives
// best-effort extraction and an error wrapping ErrTruncated or ErrMalformed.
func readEML(r io.Reader, rn *run) error {
	e := &emlReader{rn: rn, index: map[ioc.IOC]int{}}
	err := e.message(&limitReader{r: r, n: rn.opt.MaxSize}, "", 0)
	for _, it := range e.items {
		if !rn.send(it) {
			return nil
		}
	}
	if err == nil {
		err = e.soft
	}
	if errors.Is(err, ErrTooLarge) {
		return rn.errorf("", "%w: message larger than %d bytes, the rest was not read", ErrTooLarge, rn.opt.MaxSize)
	}
	return rn.wrap("", err)
}

// emlReader collects the items of one message, merging repeats so that the
// facts learnt about one IOC in different parts stay together.
type emlReader struct {
	rn    *run
	items []Item
	index map[ioc.IOC]int
	soft  error // the first best-effort problem
	parts int
}

// mergedFacts are the context keys a repeat adds to the first sighting:
// facts about the indicator itself, not about where it was seen.
var mergedFacts = map[string]bool{"mismatch": true, "link_text_domain": true, "originating_ip": true, "filename": true}

func (e *emlReader) add(it Item) {
	if k, ok := e.index[it.IOC]; ok {
		old := &e.items[k]
		for key, v := range it.Context {
			if _, has := old.Context[key]; !has && mergedFacts[key] {
				if old.Context == nil {
					old.Context = map[string]string{}
				}
				old.Context[key] = v
			}
		}
		return
	}
	e.index[it.IOC] = len(e.items)
	e.items = append(e.items, it)
}

func (e *emlReader) extract(text []byte, path string, ctx map[string]string) {
	ioc.Extract(text, func(m ioc.Match) {
		e.add(Item{IOC: m.IOC, Raw: m.Raw, Path: path, Context: cloneMap(ctx)})
	})
}

func (e *emlReader) warn(err error) {
	if e.soft == nil {
		e.soft = err
	}
}

// message reads one message (top level or nested), prefixing paths.
func (e *emlReader) message(r io.Reader, prefix string, depth int) error {
	msg, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return err
		}
		if depth > 0 {
			e.warn(fmt.Errorf("%w: nested message %s: %v", ErrMalformed, strings.TrimSuffix(prefix, "/"), err))
			return nil
		}
		return fmt.Errorf("%w: not an e-mail message: %v", ErrMalformed, err)
	}
	e.headers(msg.Header, prefix)
	return e.entity(textproto.MIMEHeader(msg.Header), msg.Body, prefix, depth)
}

// headers extracts the sender addresses, the subject and the Received chain.
func (e *emlReader) headers(h mail.Header, prefix string) {
	for _, name := range addressHeaders {
		for _, v := range h[name] {
			path := prefix + "header:" + name
			addrs, err := mail.ParseAddressList(v)
			if err != nil {
				e.extract([]byte(decodeWords(v)), path, nil)
				continue
			}
			for _, a := range addrs {
				e.extract([]byte(a.Address), path, nil)
				if a.Name != "" {
					e.extract([]byte(a.Name), path, map[string]string{"display_name": "true"})
				}
			}
		}
	}
	for _, v := range h["Subject"] {
		e.extract([]byte(decodeWords(v)), prefix+"header:Subject", nil)
	}
	e.received(h["Received"], h["X-Originating-Ip"], prefix)
}

// received extracts the hosts and IPs of the Received chain, newest hop
// first as the headers appear, and marks the originating IP: the first
// public address in a "from" clause reading from the bottom (earliest)
// hop up, or failing that the X-Originating-IP header's.
func (e *emlReader) received(chain, xorig []string, prefix string) {
	var origin ioc.IOC
	for i := len(chain) - 1; i >= 0 && origin.Value == ""; i-- {
		ioc.Extract([]byte(fromClause(chain[i])), func(m ioc.Match) {
			if origin.Value == "" && m.Type.IsIP() {
				if internal, _ := ioc.Internal(m.IOC); !internal {
					origin = m.IOC
				}
			}
		})
	}
	for _, v := range xorig {
		ioc.Extract([]byte(v), func(m ioc.Match) {
			if origin.Value == "" && m.Type.IsIP() {
				if internal, _ := ioc.Internal(m.IOC); !internal {
					origin = m.IOC
				}
			}
		})
	}
	mark := func(path string, text string) {
		ioc.Extract([]byte(text), func(m ioc.Match) {
			it := Item{IOC: m.IOC, Raw: m.Raw, Path: path}
			if m.IOC == origin {
				it.Context = map[string]string{"originating_ip": "true"}
			}
			e.add(it)
		})
	}
	for i, v := range chain {
		if k := strings.LastIndexByte(v, ';'); k >= 0 {
			v = v[:k] // the date
		}
		mark(prefix+"header:Received["+strconv.Itoa(i+1)+"]", v)
	}
	for _, v := range xorig {
		mark(prefix+"header:X-Originating-IP", v)
	}
}

// fromClause returns the "from ..." part of a Received header: what the
// receiving server saw of the sender, up to " by ".
func fromClause(v string) string {
	i := indexFold(v, "from ")
	if i < 0 {
		return ""
	}
	v = v[i+5:]
	for _, stop := range []string{" by ", "\nby ", "\tby ", ";"} {
		if j := indexFold(v, stop); j >= 0 {
			v = v[:j]
		}
	}
	return v
}

// indexFold is strings.Index ignoring ASCII case; unlike lowering the
// string first it keeps byte offsets valid in any text.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// entity reads one MIME entity: a multipart container, a nested message,
// a text body or an attachment.
func (e *emlReader) entity(h textproto.MIMEHeader, body io.Reader, prefix string, depth int) error {
	e.parts++
	if e.parts > maxParts {
		e.warn(fmt.Errorf("%w: more than %d MIME parts, the rest was skipped", ErrTooLarge, maxParts))
		return nil
	}
	ct, params := mediaType(h.Get("Content-Type"))
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	filename = decodeWords(filename)

	if strings.HasPrefix(ct, "multipart/") {
		if depth >= maxMIMEDepth {
			e.warn(fmt.Errorf("%w: MIME nested deeper than %d levels, the rest was skipped", ErrMalformed, maxMIMEDepth))
			return nil
		}
		if params["boundary"] == "" {
			e.warn(fmt.Errorf("%w: %s part without a boundary", ErrMalformed, ct))
			return nil
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return e.broken(err)
			}
			if err := e.entity(p.Header, p, prefix, depth+1); err != nil {
				return err
			}
		}
	}

	dec := decodeTransfer(body, h.Get("Content-Transfer-Encoding"))
	attachment := strings.EqualFold(disp, "attachment") || filename != "" ||
		!(strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "message/"))
	switch {
	case ct == "message/rfc822" || ct == "message/global":
		if depth >= maxMIMEDepth {
			e.warn(fmt.Errorf("%w: messages nested deeper than %d levels, the rest was skipped", ErrMalformed, maxMIMEDepth))
			return nil
		}
		name := filename
		if name == "" {
			name = "message"
		}
		return e.message(dec, prefix+"rfc822:"+name+"/", depth+1)
	case attachment:
		return e.attachment(dec, ct, params["charset"], filename, prefix)
	default:
		b, err := e.readPart(dec)
		e.body(b, ct, params["charset"], prefix+"body:"+ct)
		return err
	}
}

// attachment hashes an attachment as it streams; a text attachment is
// also scanned for IOCs.
func (e *emlReader) attachment(r io.Reader, ct, charset, filename, prefix string) error {
	hs := []hash.Hash{md5.New(), sha1.New(), sha256.New()}
	w := io.MultiWriter(hs[0], hs[1], hs[2])
	var text *capBuffer
	if strings.HasPrefix(ct, "text/") {
		text = &capBuffer{max: maxToken}
		w = io.MultiWriter(w, text)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return err
		}
		// Hashes of a cut attachment would name a file that does not exist.
		e.warn(fmt.Errorf("%w: attachment %q: %v", ErrTruncated, filename, err))
		return nil
	}
	label := filename
	if label == "" {
		label = "(unnamed " + ct + ")"
	}
	path := prefix + "attachment:" + label
	ctx := map[string]string{"content_type": ct, "size": strconv.FormatInt(n, 10)}
	if filename != "" {
		ctx["filename"] = filename
	}
	for i, t := range []ioc.Type{ioc.MD5, ioc.SHA1, ioc.SHA256} {
		v, perr := ioc.ParseAs(t, hex.EncodeToString(hs[i].Sum(nil)))
		if perr == nil {
			e.add(Item{IOC: v, Path: path, Context: cloneMap(ctx)})
		}
	}
	if text != nil {
		e.body(text.b, ct, charset, path)
	}
	return nil
}

// readPart reads a text part up to maxToken bytes.
func (e *emlReader) readPart(r io.Reader) ([]byte, error) {
	buf := &capBuffer{max: maxToken}
	_, err := io.Copy(buf, r)
	if buf.over {
		e.warn(fmt.Errorf("%w: a text part is larger than %d bytes, only its start was scanned", ErrTooLarge, maxToken))
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return buf.b, err
		}
		return buf.b, e.broken(err)
	}
	return buf.b, nil
}

// broken records a best-effort failure inside the MIME structure; only the
// size limit stops the whole message.
func (e *emlReader) broken(err error) error {
	if errors.Is(err, ErrTooLarge) {
		return err
	}
	e.warn(fmt.Errorf("%w: MIME structure ends early or is broken (%v); extracted what could be read", ErrTruncated, err))
	return nil
}

// body scans a decoded text part: HTML through the tokenizer, anything
// else as text.
func (e *emlReader) body(b []byte, ct, charset, path string) {
	b = toUTF8(b, charset)
	if ct == "text/html" {
		e.html(b, path)
		return
	}
	e.extract(b, path, nil)
}

// mediaType parses a Content-Type, defaulting to text/plain (RFC 2045) and
// falling back to the bare type when parameters are broken.
func mediaType(v string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	ct, params, err := mime.ParseMediaType(v)
	if err != nil {
		ct, _, _ = strings.Cut(v, ";")
		ct = strings.ToLower(strings.TrimSpace(ct))
		if params == nil {
			params = map[string]string{}
		}
	}
	return ct, params
}

// decodeTransfer undoes a Content-Transfer-Encoding. Base64 skips anything
// outside its alphabet, as mail clients do.
func decodeTransfer(r io.Reader, cte string) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &b64Filter{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// b64Filter keeps only base64 alphabet characters and padding.
type b64Filter struct{ r io.Reader }

func (f *b64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// capBuffer keeps the first max bytes written and swallows the rest.
type capBuffer struct {
	b    []byte
	max  int
	over bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	room := c.max - len(c.b)
	if len(p) > room {
		c.b = append(c.b, p[:room]...)
		c.over = true
		return len(p), nil
	}
	c.b = append(c.b, p...)
	return len(p), nil
}

// toUTF8 converts b from charset; an unknown charset leaves b as it is.
func toUTF8(b []byte, charset string) []byte {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs == "" || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii" {
		return b
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		return b
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}

func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}

// decodeWords decodes RFC 2047 encoded words, leaving the text as it is
// when they are broken.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}
