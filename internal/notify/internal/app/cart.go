package app

import (
	"context"
	"database/sql"
	"errors"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// HandleCartEvent emails the customer of an abandoned cart a link back to
// it (cart decided once per cart and 24h; the email's id derives from the
// event, so a redelivery queues nothing more).
func (s *Service) HandleCartEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	if e.Type != cartapi.EventCartAbandoned {
		return nil
	}
	var p cartapi.CartAbandoned
	if err := e.Decode(&p); err != nil {
		return err
	}
	var email, name string
	err := tx.QueryRowContext(ctx, "SELECT email, name FROM notify.users WHERE user_id = ?", p.UserID).Scan(&email, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // a customer notify never heard of has no address
	}
	if err != nil {
		return err
	}
	return s.queueEmail(ctx, tx, e.ID, notifyapi.KindCartRecovery, p.UserID, email,
		map[string]any{"Name": name, "Items": p.Items, "Promo": p.PromoCode, "Link": s.publicURL + "/cart"})
}
