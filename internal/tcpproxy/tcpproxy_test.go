package tcpproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// TestDownAndUp: the proxy forwards, refuses and cuts while down, and
// forwards again on the same port when up.
func TestDownAndUp(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					c.Write([]byte(sc.Text() + "\n"))
				}
				c.Close()
			}()
		}
	}()
	p, err := New(echo.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	roundTrip := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("ping\n")); err != nil {
			return err
		}
		_, err := bufio.NewReader(c).ReadString('\n')
		return err
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil || roundTrip(c) != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	p.Down()
	if roundTrip(c) == nil {
		t.Error("an open connection survived Down")
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Error("a new connection was taken while down")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil || roundTrip(c2) != nil {
		t.Fatalf("after Up: %v", err)
	}
}
