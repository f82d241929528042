//go:build !no_notify

package server

import "github.com/opencommerce/commerce/internal/notify"

func newNotifyHost(d hostDeps) (NotifyHost, error) {
	return notify.New(notify.Deps{DB: d.db, Sender: d.sender, PublicURL: d.s.cfg.PublicURL, Log: d.s.log}), nil
}
