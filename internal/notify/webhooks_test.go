package notify_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/notify"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// A webhook endpoint disabled after a day of failures reaches every
// administrator once (in-app and by email), and no customer.
func TestDisabledWebhookEndpointTellsTheAdministrators(t *testing.T) {
	db := pgtest.New(t)
	m, err := notify.New(notify.Deps{DB: db, Sender: &flakySender{}, PublicURL: "https://shop.example/", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range []authapi.UserRegistered{
		{UserID: "0192b7c4-0000-7000-8000-0000000000a1", Email: "boss@shop.test", Name: "Boss", Role: "admin"},
		{UserID: "0192b7c4-0000-7000-8000-0000000000a2", Email: "ops@shop.test", Role: "admin"},
		{UserID: "0192b7c4-0000-7000-8000-0000000000c1", Email: "cust@shop.test"},
	} {
		ev, err := events.New(authapi.EventUserRegistered, u.UserID, u)
		if err != nil {
			t.Fatal(i, err)
		}
		applyEvent(t, db, consumerOf(t, m, authapi.EventUserRegistered), ev)
	}
	ev, err := events.New(webhooksapi.EventEndpointDisabled, "0192b7c4-0000-7000-8000-0000000000e1", webhooksapi.EndpointDisabled{
		EndpointID: "0192b7c4-0000-7000-8000-0000000000e1", URL: "https://erp.example.com/hook", Description: "ERP <b>",
		FailingSince: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), Reason: "every delivery failed for 24h0m0s"})
	if err != nil {
		t.Fatal(err)
	}
	c := consumerOf(t, m, webhooksapi.EventEndpointDisabled)
	applyEvent(t, db, c, ev)
	applyEvent(t, db, c, ev) // redelivery
	ctx := context.Background()
	var rows []struct {
		To   string `bun:"to_addr"`
		Text string `bun:"text_body"`
		HTML string `bun:"html_body"`
	}
	if err := db.NewRaw("SELECT to_addr, text_body, html_body FROM notify.emails WHERE kind = 'webhook_disabled' ORDER BY to_addr").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].To != "boss@shop.test" || rows[1].To != "ops@shop.test" {
		t.Fatalf("emails: %+v", rows)
	}
	if !strings.Contains(rows[0].Text, "https://erp.example.com/hook") || !strings.Contains(rows[0].Text, "2026-01-01 12:00 UTC") ||
		!strings.Contains(rows[0].HTML, "ERP &lt;b&gt;") {
		t.Fatalf("email: %+v", rows[0])
	}
	var inApp int
	if err := db.NewRaw("SELECT count(*) FROM notify.notifications WHERE kind = 'webhook_disabled'").Scan(ctx, &inApp); err != nil || inApp != 2 {
		t.Fatalf("%d in-app notifications (%v)", inApp, err)
	}
}
