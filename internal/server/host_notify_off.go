//go:build no_notify

package server

func newNotifyHost(hostDeps) (NotifyHost, error) { return nil, builtWithout("notify") }
