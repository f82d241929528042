package httpx

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/bytedance/sonic"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// ErrDatabaseUnavailable is what a request that failed on the database
// connection answers (a terminated or lost connection, a closed pool, a
// statement over statement_timeout): 503 with Retry-After, because the
// same request is expected to succeed once the database or the pool
// recovers, unlike a 500, which says the request itself broke the server.
var ErrDatabaseUnavailable = &errs.Error{Kind: errs.Unavailable, Code: "database_unavailable",
	Detail: "the database is unavailable or overloaded; retry shortly", RetryAfter: 2 * time.Second}

// categorise gives an uncategorised error its category when one is known:
// database connection failures become ErrDatabaseUnavailable (wrapping the
// cause for the log). Categorised errors are left as they are.
func categorise(err error) error {
	if _, ok := errs.As(err); ok {
		return err
	}
	if pg.IsConnectionError(err) {
		e := *ErrDatabaseUnavailable
		e.Cause = err
		return &e
	}
	return err
}

// Problem is the RFC 9457 body of every error response.
type Problem struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail,omitempty"`
	Code   string            `json:"code"`
	Errors []errs.FieldError `json:"errors,omitempty"`
}

var kindStatus = map[errs.Kind]int{
	errs.BadRequest:      http.StatusBadRequest,
	errs.Invalid:         http.StatusUnprocessableEntity,
	errs.NotFound:        http.StatusNotFound,
	errs.Conflict:        http.StatusConflict,
	errs.Forbidden:       http.StatusForbidden,
	errs.Unauthenticated: http.StatusUnauthorized,
	errs.RateLimited:     http.StatusTooManyRequests,
	errs.TooLarge:        http.StatusRequestEntityTooLarge,
	errs.Unavailable:     http.StatusServiceUnavailable,
	errs.Internal:        http.StatusInternalServerError,
}

var statusCode = map[int]string{
	400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
	408: "request_timeout", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
	422: "validation_failed", 426: "upgrade_required", 429: "rate_limited", 500: "internal", 503: "unavailable",
}

// StatusOf maps any error to its HTTP status: this is the one place that
// knows the mapping from error categories.
func StatusOf(err error) int {
	err = categorise(err)
	if e, ok := errs.As(err); ok {
		return kindStatus[e.Kind]
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return http.StatusInternalServerError
}

// ProblemOf builds the problem body for err. Internal errors never leak
// their message.
func ProblemOf(err error) Problem {
	err = categorise(err)
	status := StatusOf(err)
	p := Problem{Status: status, Title: http.StatusText(status), Code: statusCode[status]}
	if p.Code == "" {
		p.Code = "error"
	}
	if e, ok := errs.As(err); ok {
		p.Code, p.Detail, p.Errors = e.Code, e.Detail, e.Fields
	} else {
		var fe *fiber.Error
		if errors.As(err, &fe) && status < 500 {
			p.Detail = fe.Message
		}
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		p.Detail = "an unexpected error occurred; it has been logged"
	}
	p.Type = "/problems/" + p.Code
	return p
}

// defaultRetryAfter is the Retry-After (seconds) of a 503 whose error
// does not name one.
const defaultRetryAfter = 1

// ErrorHandler renders errors as problem+json and logs server errors with
// their cause.
func ErrorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		err = categorise(err)
		p := ProblemOf(err)
		if p.Status >= 500 {
			log.ErrorContext(c.UserContext(), "request failed", "err", err, "path", c.Path(), "method", c.Method())
		}
		if e, ok := errs.As(err); ok && e.RetryAfter > 0 {
			secs := int(e.RetryAfter.Seconds() + 0.999)
			if secs < 1 {
				secs = 1
			}
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		} else if p.Status == http.StatusServiceUnavailable {
			// Every 503 says when to come back: a dependency that is
			// down (a neighbour over gRPC, an upstream of the gateway)
			// is retried by well-behaved clients instead of hammered.
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(defaultRetryAfter))
		}
		body, _ := sonic.Marshal(p)
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return c.Status(p.Status).Send(body)
	}
}

func newRequestID() string { return uuid.Must(uuid.NewV7()).String() }
