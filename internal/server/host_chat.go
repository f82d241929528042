//go:build !no_chat

package server

import (
	"github.com/opencommerce/commerce/internal/chat"
	"github.com/opencommerce/commerce/internal/chat/chatapi"
)

func newChatHost(d hostDeps) (ChatHost, error) {
	auth, err := d.s.authAPI()
	if err != nil {
		return nil, err
	}
	return chat.New(chat.Deps{DB: d.db, Outbox: d.outbox, Redis: d.s.Redis.Client, Auth: auth, Limiter: d.limiter, Log: d.s.log, Meter: d.meter("chat")}), nil
}

func init() {
	publishedTopics["chat"] = chatapi.Topics
	subgraphSDLs["chat"] = chat.SubgraphSDL
}
