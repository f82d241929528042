// Package graph is chat's GraphQL subgraph (Federation v2): the caller's
// conversations with their history, and sending a message. It calls
// chat's own app layer, and hands a sent message to the live side to
// deliver (Send). gqlgen generates generated.go, federation.go and
// models_gen.go from schema.graphqls (`make graphql`).
package graph

import (
	"context"
	_ "embed"
	"encoding/json"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/chat/internal/app"
	"github.com/opencommerce/commerce/internal/platform/authn"
)

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml

// SDL is the subgraph's schema, which the gateway composes.
//
//go:embed schema.graphqls
var SDL string

// Resolver holds what the resolvers call: chat's app layer, and Send,
// which sends a message as the WebSocket does (rate limit, app.Send,
// live delivery to the participants' connections).
type Resolver struct {
	Svc  *app.Service
	Send func(ctx context.Context, who authn.Principal, in app.SendInput) (app.Sent, error)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func toConversation(c app.Conversation) *Conversation {
	out := &Conversation{ID: c.ID, Kind: ConversationKind(strings.ToUpper(c.Kind)), Title: c.Title, Status: ConversationStatus(strings.ToUpper(c.Status)),
		CreatedBy: c.CreatedBy, CreatedAt: stamp(c.CreatedAt), LastSeq: c.LastSeq, Unread: int64(c.Unread), Assigned: c.Assigned,
		Participants: make([]ChatParticipant, len(c.Participants))}
	if c.LastMessageAt != nil {
		s := stamp(*c.LastMessageAt)
		out.LastMessageAt = &s
	}
	for i, p := range c.Participants {
		out.Participants[i] = ChatParticipant{UserID: p.UserID, Role: ParticipantRole(strings.ToUpper(p.Role)), LastReadSeq: p.LastReadSeq}
	}
	return out
}

func toMessage(m app.Message) *ChatMessage {
	out := &ChatMessage{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, SenderID: m.SenderID, ClientID: m.ClientID,
		Kind: ChatMessageKind(strings.ToUpper(m.Kind)), Text: m.Text, CreatedAt: stamp(m.CreatedAt)}
	var a app.Attachment
	if len(m.Attachment) > 0 && string(m.Attachment) != "null" && json.Unmarshal(m.Attachment, &a) == nil {
		out.Attachment = &ChatAttachment{URL: a.URL}
		if a.Name != "" {
			out.Attachment.Name = &a.Name
		}
		if a.Size != 0 {
			out.Attachment.Size = &a.Size
		}
		if a.Mime != "" {
			out.Attachment.Mime = &a.Mime
		}
	}
	return out
}
