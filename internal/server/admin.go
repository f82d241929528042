package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// platformAdminRoutes mounts the administration of the shared platform
// schema on api (/api/v1): dead letters and the audit log. Every process
// serves them (they read and mark shared tables; the retry itself runs in
// the process hosting the consumer), so a split deployment works whichever
// process the gateway sends them to; it sends them to one (the
// RoutePrefixes of auth and ordering).
func (s *Server) platformAdminRoutes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/events/dead-letters", Tag: "admin", Admin: true, Response: httpx.Page[events.DeadLetter]{},
		Summary: "Events a consumer gave up on (after its retries): not yet retried first, newest first; filter by consumer and topic",
		Query:   []string{"consumer", "topic", "limit", "cursor"}}, s.listDeadLetters)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/events/dead-letters/{id}/retry", Tag: "admin", Admin: true, Status: 202, Response: events.DeadLetter{},
		Summary: "Deliver a dead letter to its consumer again, through its inbox (the effect happens at most once). Runs in the process hosting the consumer: " +
			"202 with retry_requested_at set; retried_at appears once it succeeded, or error and attempts change if it failed again. " +
			"Asking again while pending is 202; a letter already retried is 409 already_retried",
		Errors: []int{404, 409}}, s.retryDeadLetter)
	s.audit.Routes(api)
}

func (s *Server) listDeadLetters(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := events.ListDeadLetters(c.UserContext(), s.DB, events.DeadLetterFilter{
		Consumer: httpx.Query(c, "consumer"), Topic: httpx.Query(c, "topic"), Cursor: httpx.Query(c, "cursor"), Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[events.DeadLetter]{Items: items, NextCursor: next})
}

func (s *Server) retryDeadLetter(c *fiber.Ctx) error {
	raw := httpx.Param(c, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return events.ErrDeadLetterNotFound
	}
	dl, err := events.RequestRetry(c.UserContext(), s.DB, id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(dl)
}
