//go:build no_cart

package server

func newCartHost(hostDeps) (CartHost, error) { return nil, builtWithout("cart") }
