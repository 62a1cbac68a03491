package fakeintel

// A DNS server on loopback for pivots (enrich --pivot): it answers A and
// AAAA questions from the records SetDNS gives, NXDOMAIN for any other
// name, so no test resolves a name on the real network. Env points
// iocane at it (IOCANE_DNS_SERVER).

import (
	"net"
	"net/netip"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer answers on one UDP socket.
type dnsServer struct {
	conn    net.PacketConn
	mu      sync.Mutex
	records map[string][]netip.Addr // lower-case name without the trailing dot
	queries []string
}

// DefaultDNS are the records the fake starts with: the scenario's
// malicious domain resolves to its malicious IP.
func DefaultDNS() map[string][]string {
	return map[string][]string{MaliciousDomain.Value: {MaliciousIP.Value}}
}

func startDNS() (*dnsServer, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &dnsServer{conn: c, records: map[string][]netip.Addr{}}
	for name, ips := range DefaultDNS() {
		d.set(name, ips...)
	}
	go d.serve()
	return d, nil
}

func (d *dnsServer) set(name string, ips ...string) {
	var addrs []netip.Addr
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil {
			addrs = append(addrs, a)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records[strings.ToLower(strings.TrimSuffix(name, "."))] = addrs
}

func (d *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, addr, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, ok := d.answer(buf[:n]); ok {
			_, _ = d.conn.WriteTo(out, addr)
		}
	}
}

// answer builds the reply to one query.
func (d *dnsServer) answer(q []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil, false
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		return nil, false
	}
	question := qs[0]
	name := strings.ToLower(strings.TrimSuffix(question.Name.String(), "."))
	d.mu.Lock()
	d.queries = append(d.queries, name)
	addrs, known := d.records[name]
	d.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(question) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	for _, a := range addrs {
		res := dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 300}
		switch {
		case question.Type == dnsmessage.TypeA && a.Is4():
			_ = b.AResource(res, dnsmessage.AResource{A: a.As4()})
		case question.Type == dnsmessage.TypeAAAA && a.Is6() && !a.Is4In6():
			_ = b.AAAAResource(res, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// StartDNS starts the fake DNS server on loopback (Start does; a caller
// mounting Handler itself calls it before Env).
func (s *Server) StartDNS() error {
	d, err := startDNS()
	if err != nil {
		return err
	}
	s.dns = d
	return nil
}

// SetDNS makes the fake DNS server answer name with ips (none: an empty
// answer); names never set get NXDOMAIN.
func (s *Server) SetDNS(name string, ips ...string) { s.dns.set(name, ips...) }

// DNSQueries returns the names the fake DNS server was asked about.
func (s *Server) DNSQueries() []string {
	s.dns.mu.Lock()
	defer s.dns.mu.Unlock()
	return append([]string(nil), s.dns.queries...)
}

// DNSAddr is the fake DNS server's host:port.
func (s *Server) DNSAddr() string { return s.dns.conn.LocalAddr().String() }
