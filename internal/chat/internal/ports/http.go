// Package ports exposes chat over HTTP (conversations, history) and
// WebSocket (live messages, typing, read receipts, presence).
package ports

import (
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/chat/internal/app"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// HTTP holds the REST handlers.
type HTTP struct {
	svc *app.Service
	ws  *WS
}

// NewHTTP builds the handlers; ws serves the live connection and is told
// of changes made over REST.
func NewHTTP(svc *app.Service, ws *WS) *HTTP { return &HTTP{svc: svc, ws: ws} }

// CreateRequest opens a conversation.
type CreateRequest struct {
	Title          string   `json:"title" validate:"max=200"`
	ParticipantIDs []string `json:"participant_ids" validate:"max=50,dive,max=64"`
}

// Conversations is the list answer.
type Conversations struct {
	Items []app.Conversation `json:"items"`
}

// History is a page of messages, newest first.
type History struct {
	Items      []app.Message `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

// Routes mounts chat's routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/chat/ws", Tag: "chat", Auth: true, Status: 101, Response: "", Errors: []int{426},
		Summary: "WebSocket: message, typing and read frames in; the same with id, sender_id, created_at out, plus presence and error frames",
		Query:   []string{"access_token"}}, h.ws.Upgrade)
	api.Handle(openapi.Op{Method: "GET", Path: "/chat/conversations", Tag: "chat", Auth: true, Response: Conversations{},
		Summary: "The caller's conversations with unread counts; admins also see unassigned support conversations"}, h.list)
	api.Handle(openapi.Op{Method: "POST", Path: "/chat/conversations", Tag: "chat", Auth: true, Request: CreateRequest{}, Response: app.Conversation{}, Status: 201,
		Errors: []int{422}, Summary: "Open a conversation: without participant_ids a support conversation admins can join, with them a group"}, h.create)
	api.Handle(openapi.Op{Method: "POST", Path: "/chat/conversations/{id}/join", Tag: "chat", Admin: true, Response: app.Conversation{},
		Errors: []int{404, 409}, Summary: "An admin joins a support conversation as its agent"}, h.join)
	api.Handle(openapi.Op{Method: "POST", Path: "/chat/conversations/{id}/close", Tag: "chat", Auth: true, Response: app.Conversation{},
		Errors: []int{404}, Summary: "Close a conversation (no new messages until reopened)"}, h.status("closed"))
	api.Handle(openapi.Op{Method: "POST", Path: "/chat/conversations/{id}/reopen", Tag: "chat", Auth: true, Response: app.Conversation{},
		Errors: []int{404}, Summary: "Reopen a closed conversation"}, h.status("open"))
	api.Handle(openapi.Op{Method: "GET", Path: "/chat/conversations/{id}/messages", Tag: "chat", Auth: true, Response: History{},
		Errors: []int{404, 422}, Query: []string{"before", "limit", "q"}, Summary: "History, newest first; before = next_cursor; q searches the text"}, h.messages)
}

func (h *HTTP) list(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	cs, err := h.svc.List(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(Conversations{Items: cs})
}

func (h *HTTP) create(c *fiber.Ctx) error {
	var in CreateRequest
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, _ := httpx.Principal(c)
	conv, err := h.svc.Create(c.UserContext(), p, in.Title, in.ParticipantIDs)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(conv)
}

func (h *HTTP) join(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	conv, err := h.svc.Join(c.UserContext(), p, httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(conv)
}

func (h *HTTP) status(to string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := httpx.Principal(c)
		conv, err := h.svc.SetStatus(c.UserContext(), p, httpx.Param(c, "id"), to)
		if err != nil {
			return err
		}
		return c.JSON(conv)
	}
}

func (h *HTTP) messages(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	p, _ := httpx.Principal(c)
	items, next, err := h.svc.Messages(c.UserContext(), p, httpx.Param(c, "id"), httpx.Query(c, "before"), limit, httpx.Query(c, "q"))
	if err != nil {
		return err
	}
	return c.JSON(History{Items: items, NextCursor: next})
}
