package gql

import (
	"context"
	"net/http"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/logx"
)

// Admin is the authenticated caller when they hold the admin role: the
// check REST's admin routes make (httpx.Auth.RequireAdmin), so an admin
// mutation refuses an anonymous caller with unauthenticated (401) and a
// customer with forbidden (403), before anything is read or changed.
func Admin(ctx context.Context) (authn.Principal, error) {
	p, err := User(ctx)
	if err != nil {
		return authn.Principal{}, err
	}
	if !p.IsAdmin() {
		return authn.Principal{}, httpx.ErrForbidden
	}
	return p, nil
}

// AuditRoute is the route an admin mutation is recorded under in the
// audit log: the GraphQL endpoint and the mutation's field, so the log
// tells a change made through GraphQL from one made through REST.
func AuditRoute(mutation string) string { return "/graphql mutation " + mutation }

// Audit records an administrator's mutation in the audit log, as the REST
// router records every change on an admin route (after the handler, with
// the status REST would answer: 200, or the error's problem status).
// target names what was changed (an id; "" when nothing was created), in
// place of REST's concrete path. Like REST it never records arguments
// (they may carry personal data), and a nil auditor records nothing.
// Call it only for a caller Admin accepted: a refused caller changed
// nothing and is not an administrator.
func Audit(ctx context.Context, a httpx.Auditor, p authn.Principal, mutation, target string, err error) {
	if a == nil {
		return
	}
	status := http.StatusOK
	if err != nil {
		status = httpx.ProblemOf(err).Status
	}
	path := AuditRoute(mutation)
	if target != "" {
		path += " " + target
	}
	a.Record(context.WithoutCancel(ctx), httpx.AuditEntry{ActorID: p.UserID, ActorEmail: p.Email, Method: http.MethodPost,
		Route: AuditRoute(mutation), Path: path, Status: status, RequestID: logx.RequestID(ctx)})
}
