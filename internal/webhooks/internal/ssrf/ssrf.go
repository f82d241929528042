// Package ssrf keeps webhook deliveries away from the platform's own
// network: an endpoint URL is checked when it is registered (https only,
// no literal private, loopback, link-local or metadata address), and the
// address a name resolves to is checked again at connect time, in the
// dialer's Control hook, so a name that later resolves to such an address
// is refused before any packet leaves.
package ssrf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned by the dialer for an address the policy
// refuses; deliveries record it as the attempt's error.
var ErrForbiddenAddress = errors.New("ssrf: address not allowed")

// Policy says which destinations are allowed. The zero Policy allows
// https to public addresses only.
type Policy struct {
	// AllowLoopback admits plain http and loopback addresses (and nothing
	// else private): WEBHOOKS_ALLOW_INSECURE, for development.
	AllowLoopback bool
}

// blocked are the ranges no delivery may reach beyond those the netip
// predicates name (loopback, private, link-local, multicast, unspecified).
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (and a cloud metadata address)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (and a cloud metadata address)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard
}

// Embedded-IPv4 translation prefixes: the IPv4 address inside is checked.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Allowed reports whether a delivery may connect to ip.
func (p Policy) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	if ip.Is6() && (nat64.Contains(ip) || sixTo4.Contains(ip)) {
		b := ip.As16()
		var v4 [4]byte
		if nat64.Contains(ip) {
			copy(v4[:], b[12:16])
		} else {
			copy(v4[:], b[2:6])
		}
		return p.Allowed(netip.AddrFrom4(v4))
	}
	if ip.IsLoopback() {
		return p.AllowLoopback
	}
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, b := range blocked {
		if b.Contains(ip) {
			return false
		}
	}
	return true
}

// loopbackName reports whether host names the local machine by convention.
func loopbackName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// CheckURL validates an endpoint URL at registration and returns it
// normalised; the error message is for the administrator.
func (p Policy) CheckURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", errors.New("must be an absolute https URL")
	}
	if u.User != nil {
		return "", errors.New("must not carry credentials")
	}
	if u.Fragment != "" {
		return "", errors.New("must not have a fragment")
	}
	host := u.Hostname()
	if host == "" {
		return "", errors.New("must name a host")
	}
	loopback := loopbackName(host)
	if ip, err := netip.ParseAddr(host); err == nil {
		loopback = ip.Unmap().IsLoopback()
		if !p.Allowed(ip) {
			return "", errors.New("must not point at a private, loopback, link-local or metadata address")
		}
	} else if loopback && !p.AllowLoopback {
		return "", errors.New("must not point at a private, loopback, link-local or metadata address")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowLoopback || !loopback {
			return "", errors.New("must use https")
		}
	default:
		return "", errors.New("must use https")
	}
	if port := u.Port(); port != "" {
		var n int
		if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n < 1 || n > 65535 {
			return "", errors.New("has an invalid port")
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

// Resolver turns a host name into addresses (*net.Resolver is one); tests
// inject their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Control is the net.Dialer hook: it runs after the address is resolved
// and the socket created, before connect, and refuses what p does not
// allow, so no packet leaves for a forbidden address.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if !p.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// Dialer returns a DialContext for http.Transport that resolves names with
// r (nil: the system resolver), skips forbidden addresses and dials with
// Control, which refuses them again before connecting.
func (p Policy) Dialer(r Resolver, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	d := &net.Dialer{Timeout: timeout, Control: p.Control}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else {
			ips, err = r.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, fmt.Errorf("resolve %s: %w", host, err)
			}
		}
		var firstErr error
		for _, ip := range ips {
			// Each address goes through Control, forbidden or not, so the
			// refusal happens in one place, before connect.
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			if firstErr == nil || (errors.Is(firstErr, ErrForbiddenAddress) && !errors.Is(err, ErrForbiddenAddress)) {
				firstErr = err
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("resolve %s: no addresses", host)
		}
		return nil, firstErr
	}
}
