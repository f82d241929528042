//go:build no_chat

package server

func newChatHost(hostDeps) (ChatHost, error) { return nil, builtWithout("chat") }
