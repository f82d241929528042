// Package ports exposes notify over HTTP: the caller's in-app notifications.
package ports

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/notify/internal/app"
	"github.com/opencommerce/commerce/internal/notify/internal/push"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// HTTP holds the handlers.
type HTTP struct {
	svc       *app.Service
	hub       *push.Hub
	adminHub  *push.AdminHub
	streamCfg StreamConfig
	log       *slog.Logger
}

// NewHTTP builds the handlers; hub serves the users' live streams,
// adminHub the administrators' (either nil: that stream answers 503).
func NewHTTP(svc *app.Service, hub *push.Hub, adminHub *push.AdminHub, sc StreamConfig, log *slog.Logger) *HTTP {
	if sc.Heartbeat <= 0 {
		sc.Heartbeat = 15 * time.Second
	}
	if sc.WriteTimeout <= 0 {
		sc.WriteTimeout = 10 * time.Second
	}
	return &HTTP{svc: svc, hub: hub, adminHub: adminHub, streamCfg: sc, log: log}
}

// List is the page of notifications with the unread count.
type List struct {
	Items      []app.Notification `json:"items"`
	NextCursor *string            `json:"next_cursor"`
	Unread     int                `json:"unread"`
}

// Routes mounts notify's routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/notifications", Summary: "The caller's in-app notifications, newest first, with the unread count", Tag: "notifications",
		Auth: true, Query: []string{"limit", "cursor"}, Response: List{}}, h.list)
	api.Handle(openapi.Op{Method: "POST", Path: "/notifications/{id}/read", Summary: "Mark a notification read", Tag: "notifications",
		Auth: true, Status: 204, Errors: []int{404}}, h.read)
	h.streamRoute(api)
	h.adminStreamRoute(api)
}

func (h *HTTP) list(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	p, _ := httpx.Principal(c)
	items, next, unread, err := h.svc.List(c.UserContext(), p.UserID, httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(List{Items: items, NextCursor: next, Unread: unread})
}

func (h *HTTP) read(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	if err := h.svc.MarkRead(c.UserContext(), p.UserID, httpx.Param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
