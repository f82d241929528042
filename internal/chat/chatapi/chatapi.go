// Package chatapi is what other contexts may import from chat: the events
// it publishes.
package chatapi

// EventMessageSent is published (through the outbox) for every new
// message, so other contexts (notify) can reach offline participants.
const EventMessageSent = "chat.message_sent"

// Topics lists every topic chat publishes.
var Topics = []string{EventMessageSent}

// MessageSent is the payload of chat.message_sent.
type MessageSent struct {
	MessageID      string   `json:"message_id"`
	ConversationID string   `json:"conversation_id"`
	SenderID       string   `json:"sender_id"`
	Recipients     []string `json:"recipients"`
	// Offline are the recipients with no live connection when it was sent:
	// the ones to reach another way (email).
	Offline   []string `json:"offline"`
	Title     string   `json:"title"`
	Kind      string   `json:"kind"`
	Preview   string   `json:"preview"`
	CreatedAt string   `json:"created_at"`
}

// LiveChannelPrefix + a user id is the Redis channel of the chat frames
// of the user's conversations (the WebSocket's server frames: messages,
// typing, reads): the WebSockets and the GraphQL chatMessages
// subscription read it, in any process.
const LiveChannelPrefix = "chat:user:"
