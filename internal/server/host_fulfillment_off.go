//go:build no_fulfillment

package server

func newFulfillmentHost(hostDeps) (FulfillmentHost, error) { return nil, builtWithout("fulfillment") }
