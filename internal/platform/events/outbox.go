package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Topic tables live in the "events" schema, created by the platform migration.
func messagesTable(topic string) string { return `"events"."messages_` + topic + `"` }
func offsetsTable(topic string) string  { return `"events"."offsets_` + topic + `"` }

func schemaAdapter() wsql.DefaultPostgreSQLSchema {
	return wsql.DefaultPostgreSQLSchema{GenerateMessagesTableName: messagesTable, SubscribeBatchSize: 10}
}

func offsetsAdapter() wsql.DefaultPostgreSQLOffsetsAdapter {
	return wsql.DefaultPostgreSQLOffsetsAdapter{GenerateMessagesOffsetsTableName: offsetsTable}
}

// Outbox writes events in the caller's transaction, so an event exists if
// and only if the state change that produced it committed.
type Outbox struct {
	logger watermill.LoggerAdapter
}

// NewOutbox builds the outbox writer.
func NewOutbox(log *slog.Logger) *Outbox {
	return &Outbox{logger: wmLogger(log)}
}

// Publish appends the envelopes to their topics inside tx. Topic tables must
// exist (Bus.InitTopics at start): creating a table inside the caller's
// transaction is forbidden by watermill-sql.
func (o *Outbox) Publish(ctx context.Context, tx bun.Tx, evs ...Envelope) error {
	if len(evs) == 0 {
		return nil
	}
	pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx.Tx), wsql.PublisherConfig{SchemaAdapter: schemaAdapter()}, o.logger)
	if err != nil {
		return err
	}
	tp := otelx.TraceParent(ctx)
	for _, e := range evs {
		if e.TraceParent == "" {
			e.TraceParent = tp
		}
		payload, err := json.Marshal(e)
		if err != nil {
			return err
		}
		msg := message.NewMessage(e.ID, payload)
		msg.SetContext(ctx)
		msg.Metadata.Set("type", e.Type)
		if err := pub.Publish(e.Type, msg); err != nil {
			return fmt.Errorf("outbox %s: %w", e.Type, err)
		}
	}
	return nil
}

// wmLogger adapts slog for watermill, demoting its chatty info lines.
func wmLogger(log *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(log.With("component", "events"), map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug,
	})
}
