//go:build no_payments

package server

func newPaymentsHost(hostDeps) (PaymentsHost, error) { return nil, builtWithout("payments") }
