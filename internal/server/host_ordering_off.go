//go:build no_ordering

package server

func newOrderingHost(hostDeps) (OrderingHost, error) { return nil, builtWithout("ordering") }
