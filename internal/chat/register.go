package chat

import (
	"github.com/opencommerce/commerce/internal/auth/authapi"
	authgrpc "github.com/opencommerce/commerce/internal/auth/authapi/grpcclient"
	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "chat" }

// Registration is how the composition root hosts chat
// (internal/server/ctx_chat.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:          "chat",
	Topics:        chatapi.Topics,
	SDL:           SubgraphSDL,
	RoutePrefixes: []string{"/api/v1/chat"},
	New: func(d module.Deps) (module.Module, error) {
		au, err := module.Neighbour[authapi.Auth](d, "auth", authgrpc.New)
		if err != nil {
			return nil, err
		}
		return New(Deps{DB: d.DB, Outbox: d.Outbox, Redis: d.Redis.Client, Auth: au, Limiter: d.Limiter, Log: d.Log, Meter: d.Meter("chat")}), nil
	},
}
