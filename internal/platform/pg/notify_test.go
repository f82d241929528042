package pg_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// A transaction of InTx that asked for a notification has it sent once it
// committed (and none when it rolled back); outside InTx the caller is
// told to notify itself.
func TestNotifyAfterCommit(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN after_commit_test"); err != nil {
		t.Fatal(err)
	}
	next := func(within time.Duration) bool {
		wctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		_, err := conn.WaitForNotification(wctx)
		return err == nil
	}
	if pg.NotifyAfterCommit(ctx, "after_commit_test") {
		t.Fatal("outside a transaction of InTx, NotifyAfterCommit claimed the notification")
	}
	boom := errors.New("boom")
	if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if !pg.NotifyAfterCommit(ctx, "after_commit_test") {
			t.Error("inside InTx, NotifyAfterCommit refused")
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if next(300 * time.Millisecond) {
		t.Fatal("a rolled-back transaction's notification was sent")
	}
	committed := make(chan struct{})
	if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		pg.NotifyAfterCommit(ctx, "after_commit_test")
		pg.NotifyAfterCommit(ctx, "after_commit_test") // asked twice, sent once
		close(committed)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	<-committed
	if !next(5 * time.Second) {
		t.Fatal("no notification after the commit")
	}
	if next(300 * time.Millisecond) {
		t.Fatal("a second notification for one transaction")
	}
}
