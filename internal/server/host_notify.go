//go:build !no_notify

package server

import "github.com/opencommerce/commerce/internal/notify"

func newNotifyHost(d hostDeps) (NotifyHost, error) {
	cfg := d.s.cfg
	return notify.New(notify.Deps{DB: d.db, Redis: d.s.Redis.Client, Sender: d.sender, Log: d.s.log, PublicURL: cfg.PublicURL,
		TemplatesDir: cfg.TemplatesDir, SMSProviders: cfg.SMSProviders, SMSToken: cfg.SMSHTTPToken, Heartbeat: cfg.SSEHeartbeat, Meter: d.meter("notify")})
}

func init() { subgraphSDLs["notify"] = notify.SubgraphSDL }
