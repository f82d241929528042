package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/chat/internal/app"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/fanout"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// Tuning of live connections.
const (
	// Buffer is how many frames a connection may fall behind before it is
	// closed with CloseTooSlow, so one slow client never delays others.
	Buffer = 256
	// ReadLimit is the largest frame read; a larger one closes the
	// connection (1009). Text above app.MaxText gets an error frame.
	ReadLimit = 64 * 1024
	// PingEvery and PongWait are the keepalive: a connection that does not
	// answer pings for PongWait is closed, and its presence lapses.
	PingEvery = 25 * time.Second
	PongWait  = 60 * time.Second
	// WriteWait bounds one write.
	WriteWait = 10 * time.Second
	// TypingEvery throttles typing frames per connection and conversation.
	TypingEvery = 2 * time.Second
	// MessagesPerSecond limits each user's messages (all connections).
	MessagesPerSecond = 10
	// CloseTooSlow is the close code of a connection dropped for falling behind.
	CloseTooSlow = 4008
)

const (
	userChannels = chatapi.LiveChannelPrefix
	presenceKey  = "chat:presence:"
)

// WS serves the live connections.
type WS struct {
	svc     *app.Service
	rdb     *redis.Client
	hub     *fanout.Hub[[]byte]
	limiter *ratelimit.Limiter
	log     *slog.Logger
	up      websocket.FastHTTPUpgrader
}

// NewWS builds the WebSocket side; Run must be running.
func NewWS(svc *app.Service, rdb *redis.Client, limiter *ratelimit.Limiter, log *slog.Logger) *WS {
	hub := fanout.New(rdb, userChannels, Buffer, func(p string) ([]byte, bool) { return []byte(p), true }, log)
	return &WS{svc: svc, rdb: rdb, hub: hub, limiter: limiter, log: log, up: websocket.FastHTTPUpgrader{
		ReadBufferSize: 1024, WriteBufferSize: 1024,
		// Auth is a bearer token, never a cookie, so another site's page
		// cannot ride a shopper's session: any origin may connect.
		CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
	}}
}

// Run delivers published frames to local connections until ctx ends.
func (w *WS) Run(ctx context.Context) error { return w.hub.Run(ctx) }

// Shutdown closes every connection (1001, going away): clients reconnect
// to another instance.
func (w *WS) Shutdown() { w.hub.Close() }

var errUpgrade = fiber.NewError(fiber.StatusUpgradeRequired, "this endpoint speaks WebSocket only: send Upgrade: websocket")

// Upgrade turns the request into a WebSocket for the authenticated caller.
func (w *WS) Upgrade(c *fiber.Ctx) error {
	if !websocket.FastHTTPIsWebSocketUpgrade(c.Context()) {
		c.Set(fiber.HeaderUpgrade, "websocket")
		return errUpgrade
	}
	p, _ := httpx.Principal(c)
	who := authn.Principal{UserID: strings.Clone(p.UserID), Role: strings.Clone(p.Role)}
	err := w.up.Upgrade(c.Context(), func(conn *websocket.Conn) { w.serve(conn, who) })
	if err != nil {
		return errUpgrade
	}
	return nil
}

// inFrame is what a client sends.
type inFrame struct {
	Type           string          `json:"type"`
	ConversationID string          `json:"conversation_id"`
	ClientID       string          `json:"client_id"`
	Kind           string          `json:"kind"`
	Text           string          `json:"text"`
	Attachment     *app.Attachment `json:"attachment"`
	MessageID      string          `json:"message_id"`
}

// messageFrame is a message as delivered.
type messageFrame struct {
	Type string `json:"type"`
	app.Message
	Duplicate bool `json:"duplicate,omitempty"`
}

type eventFrame struct {
	Type           string    `json:"type"`
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	SenderID       string    `json:"sender_id"`
	MessageID      string    `json:"message_id,omitempty"`
	Seq            int64     `json:"seq,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

type presenceFrame struct {
	Type   string `json:"type"`
	UserID string `json:"user_id"`
	Online bool   `json:"online"`
}

type errorFrame struct {
	Type     string `json:"type"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	ClientID string `json:"client_id,omitempty"`
}

func encode(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// session is one live connection.
type session struct {
	w      *WS
	conn   *websocket.Conn
	who    authn.Principal
	id     string
	direct chan []byte // replies to this connection only
	member map[string]bool
	typed  map[string]time.Time
	done   chan struct{}
	once   sync.Once
}

func (w *WS) serve(conn *websocket.Conn, who authn.Principal) {
	ctx := context.Background()
	sub, err := w.hub.Subscribe(ctx, who.UserID)
	if err != nil {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "shutting down"), time.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	s := &session{w: w, conn: conn, who: who, id: uuid.NewString(), direct: make(chan []byte, 64), member: map[string]bool{},
		typed: map[string]time.Time{}, done: make(chan struct{})}
	defer sub.Close()
	// The connection belongs to fasthttp again once this function returns:
	// the writer must be finished by then, never left writing to it.
	written := make(chan struct{})
	go func() {
		defer close(written)
		defer s.recoverFrom("writer")
		s.writeLoop(sub)
	}()
	defer func() {
		s.stop()
		<-written
	}()
	defer s.recoverFrom("reader")
	s.online(ctx, true)
	defer s.online(context.WithoutCancel(ctx), false)
	s.readLoop(ctx)
}

// recoverFrom keeps one connection's bug from taking the process down.
func (s *session) recoverFrom(what string) {
	if r := recover(); r != nil {
		s.w.log.Error("chat connection panicked", "in", what, "panic", r, "user_id", s.who.UserID)
		s.stop()
	}
}

func (s *session) stop() { s.once.Do(func() { close(s.done) }) }

// writeLoop owns every write: delivered frames, direct replies, pings.
func (s *session) writeLoop(sub *fanout.Sub[[]byte]) {
	ping := time.NewTicker(PingEvery)
	defer ping.Stop()
	defer s.conn.Close() // unblocks the reader
	write := func(b []byte) bool {
		_ = s.conn.SetWriteDeadline(time.Now().Add(WriteWait))
		return s.conn.WriteMessage(websocket.TextMessage, b) == nil
	}
	closeWith := func(code int, text string) {
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	}
	for {
		select {
		case b := <-sub.C():
			if !write(b) {
				return
			}
		case b := <-s.direct:
			if !write(b) {
				return
			}
		case <-ping.C:
			if s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait)) != nil {
				return
			}
		case <-sub.Gone():
			if sub.Dropped() {
				closeWith(CloseTooSlow, "too slow: reconnect and reload history")
			} else {
				closeWith(websocket.CloseGoingAway, "server shutting down")
			}
			return
		case <-s.done:
			return
		}
	}
}

// reply queues a frame for this connection only; a client that does not
// read its replies is disconnected.
func (s *session) reply(v any) {
	select {
	case s.direct <- encode(v):
	default:
		s.stop()
	}
}

func (s *session) readLoop(ctx context.Context) {
	s.conn.SetReadLimit(ReadLimit)
	_ = s.conn.SetReadDeadline(time.Now().Add(PongWait))
	s.conn.SetPongHandler(func(string) error {
		s.refreshPresence(ctx)
		return s.conn.SetReadDeadline(time.Now().Add(PongWait))
	})
	for {
		typ, data, err := s.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.w.log.Info("chat: frame over the read limit; connection closed", "user_id", s.who.UserID)
			}
			return
		}
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(PongWait)) // any frame proves liveness
		if typ != websocket.TextMessage {
			s.reply(errorFrame{Type: "error", Code: "bad_frame", Message: "frames are JSON text"})
			continue
		}
		var f inFrame
		// The one decoder of client JSON: frames obey the same rules as
		// request bodies (UTF-8, no NUL in any string).
		if err := httpx.DecodeJSON(data, &f, false); err != nil {
			if e, ok := errs.As(err); ok && e.Code == httpx.ErrInvalidCharacters.Code {
				s.reply(errorFrame{Type: "error", Code: e.Code, Message: "text must be UTF-8 without NUL (U+0000) characters"})
				continue
			}
			s.reply(errorFrame{Type: "error", Code: "bad_frame", Message: "a frame is a UTF-8 JSON object with a type"})
			continue
		}
		s.handle(ctx, f)
	}
}

func (s *session) handle(ctx context.Context, f inFrame) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch f.Type {
	case "message":
		s.message(ctx, f)
	case "typing":
		if !s.isMember(ctx, f.ConversationID) {
			s.reply(errorFrame{Type: "error", Code: "not_found", Message: "conversation not found"})
			return
		}
		now := time.Now()
		if now.Sub(s.typed[f.ConversationID]) < TypingEvery {
			return // throttled: the last indicator is still showing
		}
		s.typed[f.ConversationID] = now
		users, err := s.w.svc.Participants(ctx, f.ConversationID)
		if err != nil {
			return
		}
		s.w.publish(ctx, without(users, s.who.UserID), encode(eventFrame{Type: "typing", ID: uuid.NewString(), ConversationID: f.ConversationID, SenderID: s.who.UserID, CreatedAt: now.UTC()}))
	case "read":
		seq, users, err := s.w.svc.MarkRead(ctx, s.who, f.ConversationID, f.MessageID)
		if err != nil {
			s.replyErr(err, "")
			return
		}
		s.w.publish(ctx, users, encode(eventFrame{Type: "read", ID: uuid.NewString(), ConversationID: f.ConversationID, SenderID: s.who.UserID, MessageID: f.MessageID,
			Seq: seq, CreatedAt: time.Now().UTC()}))
	default:
		s.reply(errorFrame{Type: "error", Code: "bad_frame", Message: "type must be message, typing or read"})
	}
}

func (s *session) message(ctx context.Context, f inFrame) {
	if r, err := s.w.limiter.Hit(ctx, "chat:msg:"+s.who.UserID, MessagesPerSecond, time.Second); err == nil && !r.Allowed {
		s.reply(errorFrame{Type: "error", Code: "rate_limited", Message: "too many messages; slow down", ClientID: f.ClientID})
		return
	}
	sent, err := s.w.svc.Send(ctx, s.who, app.SendInput{ConversationID: f.ConversationID, ClientID: f.ClientID, Kind: f.Kind, Text: f.Text, Attachment: f.Attachment})
	if err != nil {
		s.replyErr(err, f.ClientID)
		return
	}
	if sent.Duplicate { // a resend: the sender learns the stored message, nobody hears it twice
		s.reply(messageFrame{Type: "message", Message: sent.Message, Duplicate: true})
		return
	}
	s.member[f.ConversationID] = true
	s.w.publish(ctx, sent.Recipients, encode(messageFrame{Type: "message", Message: sent.Message}))
}

// ErrTooManyMessages is the rate_limited answer to a sender over
// MessagesPerSecond (the WebSocket answers the same code in an error frame).
var ErrTooManyMessages = errs.New(errs.RateLimited, "rate_limited", "too many messages; slow down")

// Send sends a message outside a WebSocket session (GraphQL's
// sendMessage) as a message frame would be: the same per-user rate limit,
// app.Send's validation, and live delivery to the participants'
// connections on any instance; a resend (same client id) is not
// delivered again.
func (w *WS) Send(ctx context.Context, who authn.Principal, in app.SendInput) (app.Sent, error) {
	if w.limiter != nil {
		if r, err := w.limiter.Hit(ctx, "chat:msg:"+who.UserID, MessagesPerSecond, time.Second); err == nil && !r.Allowed {
			return app.Sent{}, ErrTooManyMessages
		}
	}
	sent, err := w.svc.Send(ctx, who, in)
	if err != nil {
		return app.Sent{}, fmt.Errorf("chat: sending to %s: %w", in.ConversationID, err)
	}
	if !sent.Duplicate {
		w.publish(ctx, sent.Recipients, encode(messageFrame{Type: "message", Message: sent.Message}))
	}
	return sent, nil
}

func (s *session) replyErr(err error, clientID string) {
	var e *errs.Error
	if errors.As(err, &e) {
		s.reply(errorFrame{Type: "error", Code: e.Code, Message: e.Detail, ClientID: clientID})
		return
	}
	s.w.log.Error("chat frame failed", "err", err)
	s.reply(errorFrame{Type: "error", Code: "internal", Message: "could not process the frame; retry", ClientID: clientID})
}

func (s *session) isMember(ctx context.Context, conv string) bool {
	if s.member[conv] {
		return true
	}
	ok, err := s.w.svc.IsParticipant(ctx, s.who.UserID, conv)
	if ok && err == nil {
		s.member[conv] = true
	}
	return ok && err == nil
}

func without(users []string, me string) []string {
	out := users[:0:0]
	for _, u := range users {
		if u != me {
			out = append(out, u)
		}
	}
	return out
}

// publish sends a frame to every connection of users, on any instance,
// in one round trip.
func (w *WS) publish(ctx context.Context, users []string, frame []byte) {
	if len(users) == 0 {
		return
	}
	pipe := w.rdb.Pipeline()
	for _, u := range users {
		pipe.Publish(ctx, w.hub.Channel(u), frame)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		w.log.Warn("chat: publish failed", "err", err)
	}
}

// Presence: a hash per user of connection id → expiry, so any instance
// can tell whether the user has a live connection anywhere; a crashed
// instance's entries lapse on their own.
func (s *session) refreshPresence(ctx context.Context) {
	key := presenceKey + s.who.UserID
	pipe := s.w.rdb.Pipeline()
	pipe.HSet(ctx, key, s.id, time.Now().Add(PongWait).Unix())
	pipe.Expire(ctx, key, PongWait+PingEvery)
	_, _ = pipe.Exec(ctx)
}

// OnlineOf reports which of users have a live connection on any
// instance, in one round trip.
func (w *WS) OnlineOf(ctx context.Context, users []string) map[string]bool {
	out := make(map[string]bool, len(users))
	if len(users) == 0 {
		return out
	}
	pipe := w.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(users))
	for i, u := range users {
		cmds[i] = pipe.HGetAll(ctx, presenceKey+u)
	}
	_, _ = pipe.Exec(ctx)
	for i, c := range cmds {
		out[users[i]] = live(c.Val())
	}
	return out
}

// live reports whether a presence hash holds an unexpired connection.
func live(conns map[string]string) bool {
	now := time.Now().Unix()
	for _, v := range conns {
		if exp, err := strconv.ParseInt(v, 10, 64); err == nil && exp > now {
			return true
		}
	}
	return false
}

// online records this connection coming or going, in one round trip
// that also tells whether the user was and is online anywhere; contacts
// hear of it only when that changes. A new connection also learns which
// of its contacts are online. (A reconnect storm costs two Redis round
// trips and one query per connection.)
func (s *session) online(ctx context.Context, up bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	key := presenceKey + s.who.UserID
	pipe := s.w.rdb.Pipeline()
	before := pipe.HGetAll(ctx, key)
	if up {
		pipe.HSet(ctx, key, s.id, time.Now().Add(PongWait).Unix())
		pipe.Expire(ctx, key, PongWait+PingEvery)
	} else {
		pipe.HDel(ctx, key, s.id)
	}
	after := pipe.HGetAll(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		s.w.log.Warn("chat: presence", "err", err)
		return
	}
	was, now := live(before.Val()), live(after.Val())
	if was == now && !up {
		return // another connection of the user is still live: nothing to tell
	}
	contacts, err := s.w.svc.Contacts(ctx, s.who.UserID)
	if err != nil || len(contacts) == 0 {
		return
	}
	pipe = s.w.rdb.Pipeline()
	if was != now {
		frame := encode(presenceFrame{Type: "presence", UserID: s.who.UserID, Online: now})
		for _, c := range contacts {
			pipe.Publish(ctx, s.w.hub.Channel(c), frame)
		}
	}
	var cmds []*redis.MapStringStringCmd
	if up {
		for _, c := range contacts {
			cmds = append(cmds, pipe.HGetAll(ctx, presenceKey+c))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		s.w.log.Warn("chat: presence", "err", err)
	}
	n := 0
	for i, c := range cmds { // who of my contacts is online right now (the first ones)
		if n < presenceSnapshot && live(c.Val()) {
			s.reply(presenceFrame{Type: "presence", UserID: contacts[i], Online: true})
			n++
		}
	}
}

// presenceSnapshot caps the presence frames sent on connect (the direct
// queue must not overflow).
const presenceSnapshot = 48
