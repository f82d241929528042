package ssrf

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestAllowed(t *testing.T) {
	for _, c := range []struct {
		ip            string
		strict, loose bool
	}{
		{"93.184.216.34", true, true}, {"2606:4700::1111", true, true},
		{"127.0.0.1", false, true}, {"::1", false, true}, {"::ffff:127.0.0.1", false, true},
		{"10.0.0.1", false, false}, {"172.16.5.4", false, false}, {"192.168.1.1", false, false},
		{"169.254.169.254", false, false}, {"fd00:ec2::254", false, false}, {"100.100.100.200", false, false},
		{"192.0.0.192", false, false}, {"fe80::1", false, false}, {"0.0.0.0", false, false}, {"::", false, false},
		{"224.0.0.1", false, false}, {"255.255.255.255", false, false}, {"::ffff:10.0.0.1", false, false},
		{"64:ff9b::a9fe:a9fe", false, false}, {"2002:a00:1::", false, false},
	} {
		ip := netip.MustParseAddr(c.ip)
		if got := (Policy{}).Allowed(ip); got != c.strict {
			t.Errorf("strict %s: %v", c.ip, got)
		}
		if got := (Policy{AllowLoopback: true}).Allowed(ip); got != c.loose {
			t.Errorf("insecure %s: %v", c.ip, got)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, c := range []struct {
		url           string
		strict, loose bool
	}{
		{"https://hooks.example.com/x", true, true},
		{"http://hooks.example.com/x", false, false},
		{"https://169.254.169.254/latest", false, false},
		{"https://10.0.0.1/", false, false},
		{"https://127.0.0.1:8443/", false, true},
		{"http://127.0.0.1:8080/", false, true},
		{"http://localhost:8080/", false, true},
		{"http://10.0.0.1/", false, false},
		{"https://[::1]/", false, true},
		{"https://example.com:99999/", false, false},
		{"https://u:p@example.com/", false, false},
		{"/relative", false, false},
	} {
		if _, err := (Policy{}).CheckURL(c.url); (err == nil) != c.strict {
			t.Errorf("strict %s: %v", c.url, err)
		}
		if _, err := (Policy{AllowLoopback: true}).CheckURL(c.url); (err == nil) != c.loose {
			t.Errorf("insecure %s: %v", c.url, err)
		}
	}
}

// names maps test names to addresses; nothing goes to a real resolver.
type names map[string]string

func (n names) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	a, ok := n[host]
	if !ok {
		return nil, errors.New("no such test name")
	}
	return []netip.Addr{netip.MustParseAddr(a)}, nil
}

// The dialer refuses a name resolving to a forbidden address in Control,
// before connect: the loopback listener never sees a connection, and the
// private address is never dialled (Control runs before the connect
// system call, so no packet leaves).
func TestDialerRefusesBeforeConnecting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r := names{"metadata.test": "169.254.169.254", "private.test": "10.0.0.1", "loop.test": "127.0.0.1", "mapped.test": "::ffff:127.0.0.1"}
	strict := Policy{}.Dialer(r, time.Second)
	for _, host := range []string{"metadata.test", "private.test", "loop.test", "mapped.test", "127.0.0.1", "10.0.0.1"} {
		c, err := strict(context.Background(), "tcp", net.JoinHostPort(host, port))
		if !errors.Is(err, ErrForbiddenAddress) {
			if c != nil {
				_ = c.Close()
			}
			t.Fatalf("%s: %v", host, err)
		}
	}
	loose := Policy{AllowLoopback: true}.Dialer(r, time.Second)
	for _, host := range []string{"metadata.test", "private.test"} {
		if _, err := loose(context.Background(), "tcp", net.JoinHostPort(host, port)); !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("insecure %s: %v", host, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached the listener", n)
	}
	c, err := loose(context.Background(), "tcp", net.JoinHostPort("loop.test", port))
	if err != nil {
		t.Fatalf("insecure loopback: %v", err)
	}
	_ = c.Close()
}
