// Package errs defines the error categories every layer returns, so that one
// place (the HTTP error handler, later the gRPC interceptor) maps them to
// status codes and contexts never speak HTTP.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the category of a failure; transports map kinds to status codes.
type Kind int

// The categories. Unknown errors are treated as Internal.
const (
	Internal Kind = iota
	// BadRequest is malformed input (400): bad JSON, a bad or used token.
	BadRequest
	// Invalid is well-formed input that fails validation (422).
	Invalid
	NotFound
	Conflict
	Forbidden
	Unauthenticated
	RateLimited
	TooLarge
	// Unavailable is a dependency that cannot be reached (503).
	Unavailable
)

// FieldError names one invalid input field so clients can highlight it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a categorised error with a stable machine code, a human detail
// and optional field errors. It wraps an optional cause for logs.
type Error struct {
	Kind       Kind
	Code       string
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration
	Cause      error
}

// Error renders code and detail; the cause stays out of client messages.
func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Cause)
	}
	return e.Code + ": " + e.Detail
}

// Unwrap exposes the cause so errors.Is works through the category.
func (e *Error) Unwrap() error { return e.Cause }

// Is lets sentinel *Error values compare by code, so a wrapped copy with
// more detail still matches errors.Is(err, ErrSentinel).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Kind == e.Kind
}

// New builds a categorised error.
func New(kind Kind, code, detail string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail}
}

// Validation builds a 422-class error listing the bad fields.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Code: "validation_failed", Detail: "the request has invalid fields", Fields: fields}
}

// Field is shorthand for a FieldError.
func Field(field, msg string) FieldError { return FieldError{Field: field, Message: msg} }

// WithDetail copies e with another detail, keeping code and kind, so
// sentinels can carry request-specific wording.
func (e *Error) WithDetail(detail string) *Error {
	c := *e
	c.Detail = detail
	return &c
}

// As extracts the categorised error, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// KindOf returns the category of err (Internal when uncategorised).
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return Internal
}
