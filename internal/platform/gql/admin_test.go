package gql

import (
	"context"
	"errors"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/logx"
)

// Admin refuses like REST's RequireAdmin: anonymous is unauthenticated
// (401), a customer forbidden (403), with the same codes.
func TestAdminRefusesLikeRequireAdmin(t *testing.T) {
	admin := authn.Principal{UserID: "a", Role: authn.RoleAdmin, Email: "a@shop.test"}
	if p, err := Admin(authn.WithPrincipal(context.Background(), admin)); err != nil || p != admin {
		t.Fatalf("admin: %v %v", p, err)
	}
	for name, c := range map[string]struct {
		ctx    context.Context
		code   string
		status int
	}{
		"anonymous": {context.Background(), "unauthenticated", 401},
		"customer":  {authn.WithPrincipal(context.Background(), authn.Principal{UserID: "c", Role: "customer"}), "forbidden", 403},
	} {
		_, err := Admin(c.ctx)
		if p := httpx.ProblemOf(err); err == nil || p.Code != c.code || p.Status != c.status {
			t.Errorf("%s: %v → %+v", name, err, p)
		}
	}
}

type auditRecorder []httpx.AuditEntry

func (a *auditRecorder) Record(_ context.Context, e httpx.AuditEntry) { *a = append(*a, e) }

// Audit records the mutation with the status REST would answer, the
// administrator and the request id; a nil auditor records nothing.
func TestAuditRecordsTheStatusRESTWouldAnswer(t *testing.T) {
	var rec auditRecorder
	who := authn.Principal{UserID: "a", Role: authn.RoleAdmin, Email: "a@shop.test"}
	ctx := logx.WithRequestID(context.Background(), "req-1")
	Audit(ctx, &rec, who, "updateProduct", "p1", nil)
	Audit(ctx, &rec, who, "updateProduct", "p1", errs.New(errs.Conflict, "version_conflict", "stale"))
	Audit(ctx, &rec, who, "createProduct", "", errors.New("db down"))
	Audit(ctx, nil, who, "createProduct", "", nil)
	want := []httpx.AuditEntry{
		{ActorID: "a", ActorEmail: "a@shop.test", Method: "POST", Route: "/graphql mutation updateProduct", Path: "/graphql mutation updateProduct p1", Status: 200, RequestID: "req-1"},
		{ActorID: "a", ActorEmail: "a@shop.test", Method: "POST", Route: "/graphql mutation updateProduct", Path: "/graphql mutation updateProduct p1", Status: 409, RequestID: "req-1"},
		{ActorID: "a", ActorEmail: "a@shop.test", Method: "POST", Route: "/graphql mutation createProduct", Path: "/graphql mutation createProduct", Status: 500, RequestID: "req-1"},
	}
	if len(rec) != len(want) {
		t.Fatalf("recorded %+v", rec)
	}
	for i := range want {
		if rec[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, rec[i], want[i])
		}
	}
}
