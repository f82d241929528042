package gql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/ast"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/astnormalization"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/astparser"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/astprinter"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/asttransform"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/astvalidation"
	"github.com/wundergraph/graphql-go-tools/v2/pkg/operationreport"

	"github.com/opencommerce/commerce/internal/platform/authn"
)

// Subscriptions are served by the gateway itself over the
// graphql-transport-ws protocol on GET /graphql (a WebSocket upgrade),
// in both topologies: a subscription is fed by the same Redis fan-out as
// the REST live streams (SSE, chat WebSocket), which the gateway process
// can read wherever the contexts run, and its payloads are either the
// pushed event itself (notifications, chat messages) or an operation the
// engine runs again for the subscriber each time the event says the data
// changed (orderStatus), so that every field of the graph can be selected.

// Protocol is the WebSocket subprotocol of subscriptions.
const Protocol = "graphql-transport-ws"

// Close codes of graphql-transport-ws.
const (
	closeBadMessage      = 4400
	closeUnauthorized    = 4401
	closeForbidden       = 4403
	closeNotAcceptable   = 4406
	closeInitTimeout     = 4408
	closeDuplicateID     = 4409
	closeTooManyRequests = 4429
)

// Stream is one subscriber's end of a live feed: JSON payloads in publish
// order until Gone (the subscriber fell too far behind, or shutdown).
type Stream interface {
	C() <-chan []byte
	Gone() <-chan struct{}
	Close()
}

// Feed opens a user's live stream (a per-user fan-out channel).
type Feed func(ctx context.Context, userID string) (Stream, error)

// Live is what subscriptions need: token verification for
// connection_init and the feeds. A nil feed leaves its fields out of the
// schema.
type Live struct {
	Verify func(token string) (authn.Principal, error)
	// Notifications is the feed of the user's notifications (notify's
	// push channel: {"id","seq","kind","title","body","read_at","created_at"}).
	Notifications Feed
	// Chat is the feed of the user's chat frames (chat's WebSocket fan-out:
	// {"type":"message","id","conversation_id","sender_id","text","client_id","created_at"}).
	Chat Feed
}

// Limits of one subscription connection.
const (
	// InitTimeout is how long a connection may wait before connection_init.
	InitTimeout = 10 * time.Second
	// MaxSubscriptions bounds the operations of one connection.
	MaxSubscriptions = 20
	// maxMessage bounds a client message (a subscribe carries a query).
	maxMessage  = 64 << 10
	pingPeriod  = 30 * time.Second
	pongWait    = 75 * time.Second
	writeWait   = 10 * time.Second
	outboxDepth = 64
)

// orderKinds are the notification kinds that follow a change of an
// order (its status, payment or shipment): each one re-runs the
// orderStatus operations of its user.
var orderKinds = map[string]bool{"order_placed": true, "order_paid": true, "order_expired": true, "order_canceled": true,
	"order_refunded": true, "order_shipped": true, "order_delivered": true, "payment_failed": true, "payment_review": true}

// subscriptionField is one field of the Subscription type.
type subscriptionField struct {
	name, sdl, returns string
	feed               func(*Live) Feed
}

var subscriptionFields = []subscriptionField{
	{name: "orderStatus", returns: "Order", feed: func(l *Live) Feed { return l.Notifications },
		sdl: `  """The caller's order, now and then each time its status, payment or shipment changes (any field of the graph can be selected)."""
  orderStatus(orderId: ID!): Order!`},
	{name: "notifications", returns: "Notification", feed: func(l *Live) Feed { return l.Notifications },
		sdl: `  """The caller's notifications as they are created."""
  notifications: Notification!`},
	{name: "chatMessages", returns: "ChatMessage", feed: func(l *Live) Feed { return l.Chat },
		sdl: `  """The messages of one of the caller's conversations as they are sent (none for a conversation the caller is not in)."""
  chatMessages(conversationId: ID!): ChatMessage!`},
}

// Subscribe turns subscriptions on with live. The Subscription type is
// added to the schema (Schema, schema.graphql) with the fields whose
// feed is set and whose type the graph has.
func (g *Gateway) Subscribe(live *Live) error {
	var fields []string
	for _, f := range subscriptionFields {
		if f.feed(live) != nil && strings.Contains(g.schema, "\ntype "+f.returns+" {") {
			fields = append(fields, f.sdl)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	sdl := "\"\"\"Live updates, over graphql-transport-ws on /graphql.\"\"\"\ntype Subscription {\n" + strings.Join(fields, "\n\n") + "\n}\n"
	full := strings.TrimRight(g.schema, "\n") + "\n\n" + sdl
	doc, rep := astparser.ParseGraphqlDocumentString(full)
	if rep.HasErrors() {
		return fmt.Errorf("graphql: the Subscription type: %s", rep.Error())
	}
	if err := asttransform.MergeDefinitionWithBaseSchema(&doc); err != nil {
		return fmt.Errorf("graphql: the Subscription type: %w", err)
	}
	g.schema, g.subSchema, g.live = full, &doc, live
	return nil
}

// serveWS upgrades GET /graphql to a subscription connection.
func (g *Gateway) serveWS(c *fiber.Ctx) error {
	if g.live == nil {
		return reply(c, fiber.StatusNotFound, "not_found", "subscriptions are not served here")
	}
	// The bearer header, when sent (browsers cannot): connection_init may
	// carry the token instead.
	headerToken := bearer(c)
	ctx := c.UserContext()
	up := websocket.FastHTTPUpgrader{
		Subprotocols: []string{Protocol},
		// Tokens, never cookies, authorize: another origin gains nothing.
		CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
	}
	err := up.Upgrade(c.Context(), func(conn *websocket.Conn) {
		s := &wsSession{g: g, conn: conn, ctx: ctx, headerToken: headerToken, subs: map[string]context.CancelFunc{}, out: make(chan []byte, outboxDepth)}
		if !g.sessions.add(s) {
			s.closeWith(websocket.CloseGoingAway, "shutting down")
			return
		}
		defer g.sessions.remove(s)
		s.run()
	})
	if err != nil {
		return reply(c, fiber.StatusBadRequest, "bad_request", "a WebSocket upgrade with the graphql-transport-ws subprotocol is expected")
	}
	return nil
}

// sessionSet is the gateway's open subscription connections, which
// CloseSubscriptions ends at shutdown (they never end by themselves).
type sessionSet struct {
	mu     sync.Mutex
	open   map[*wsSession]struct{}
	closed bool
}

func (ss *sessionSet) add(s *wsSession) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	if ss.open == nil {
		ss.open = map[*wsSession]struct{}{}
	}
	ss.open[s] = struct{}{}
	return true
}

func (ss *sessionSet) remove(s *wsSession) {
	ss.mu.Lock()
	delete(ss.open, s)
	ss.mu.Unlock()
}

// CloseSubscriptions ends every subscription connection (1001, going
// away: clients reconnect elsewhere) and refuses new ones; the server
// calls it before draining HTTP.
func (g *Gateway) CloseSubscriptions() {
	g.sessions.mu.Lock()
	g.sessions.closed = true
	open := make([]*wsSession, 0, len(g.sessions.open))
	for s := range g.sessions.open {
		open = append(open, s)
	}
	g.sessions.mu.Unlock()
	for _, s := range open {
		s.closeWith(websocket.CloseGoingAway, "shutting down")
	}
}

// Connections is the number of open subscription connections.
func (g *Gateway) Connections() int {
	g.sessions.mu.Lock()
	defer g.sessions.mu.Unlock()
	return len(g.sessions.open)
}

// isUpgrade reports whether c asks for a WebSocket.
func isUpgrade(c *fiber.Ctx) bool { return websocket.FastHTTPIsWebSocketUpgrade(c.Context()) }

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsSession is one subscription connection.
type wsSession struct {
	g           *Gateway
	conn        *websocket.Conn
	ctx         context.Context
	headerToken string

	mu     sync.Mutex
	who    authn.Principal
	token  string
	acked  bool
	subs   map[string]context.CancelFunc
	closed bool

	out  chan []byte
	done chan struct{}
}

func (s *wsSession) run() {
	ctx, cancel := context.WithCancel(s.ctx)
	s.done = make(chan struct{})
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.write(ctx)
	}()
	// The connection is fasthttp's only until run returns: the writer and
	// every later closeWith must be done with it by then.
	defer func() {
		cancel()
		close(s.done)
		<-written
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
	}()
	if s.conn.Subprotocol() != Protocol {
		s.closeWith(closeNotAcceptable, "Subprotocol not acceptable")
		return
	}
	s.conn.SetReadLimit(maxMessage)
	_ = s.conn.SetReadDeadline(time.Now().Add(InitTimeout))
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	var expiry *time.Timer
	defer func() {
		if expiry != nil {
			expiry.Stop()
		}
	}()
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			s.mu.Lock()
			acked := s.acked
			s.mu.Unlock()
			var ne interface{ Timeout() bool }
			if !acked && errors.As(err, &ne) && ne.Timeout() {
				s.closeWith(closeInitTimeout, "Connection initialisation timeout")
			}
			return
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
			s.closeWith(closeBadMessage, "Invalid message received")
			return
		}
		switch m.Type {
		case "connection_init":
			s.mu.Lock()
			again := s.acked || s.token != ""
			s.mu.Unlock()
			if again {
				s.closeWith(closeTooManyRequests, "Too many initialisation requests")
				return
			}
			who, token, ok := s.authorize(m.Payload)
			if !ok {
				s.closeWith(closeForbidden, "Forbidden")
				return
			}
			s.mu.Lock()
			s.who, s.token, s.acked = who, token, true
			s.mu.Unlock()
			_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
			if !who.Expires.IsZero() {
				expiry = time.AfterFunc(time.Until(who.Expires), func() { s.closeWith(closeForbidden, "Token expired") })
			}
			s.send(wsMessage{Type: "connection_ack"})
		case "ping":
			s.send(wsMessage{Type: "pong", Payload: m.Payload})
		case "pong":
		case "subscribe":
			if !s.start(ctx, m) {
				return
			}
		case "complete":
			s.mu.Lock()
			if stop, ok := s.subs[m.ID]; ok {
				stop()
				delete(s.subs, m.ID)
			}
			s.mu.Unlock()
		default:
			s.closeWith(closeBadMessage, "Invalid message received")
			return
		}
	}
}

// authorize verifies the token of connection_init's payload
// ({"Authorization":"Bearer …"}, {"authorization":…} or {"token":…}), or
// of the upgrade's Authorization header.
func (s *wsSession) authorize(payload json.RawMessage) (authn.Principal, string, bool) {
	token := s.headerToken
	if len(payload) > 0 && string(payload) != "null" {
		var p map[string]any
		if json.Unmarshal(payload, &p) != nil {
			return authn.Principal{}, "", false
		}
		for _, k := range []string{"Authorization", "authorization", "token"} {
			if v, ok := p[k].(string); ok && v != "" {
				token = v
				if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
					token = strings.TrimSpace(v[7:])
				}
				break
			}
		}
	}
	if token == "" || s.g.live.Verify == nil {
		return authn.Principal{}, "", false
	}
	who, err := s.g.live.Verify(token)
	if err != nil {
		return authn.Principal{}, "", false
	}
	return who, token, true
}

// start validates a subscribe message and runs its operation; false
// when the connection must end.
func (s *wsSession) start(ctx context.Context, m wsMessage) bool {
	s.mu.Lock()
	acked := s.acked
	_, dup := s.subs[m.ID]
	n := len(s.subs)
	s.mu.Unlock()
	if !acked {
		s.closeWith(closeUnauthorized, "Unauthorized")
		return false
	}
	if m.ID == "" {
		s.closeWith(closeBadMessage, "Invalid message received")
		return false
	}
	if dup {
		s.closeWith(closeDuplicateID, "Subscriber for "+m.ID+" already exists")
		return false
	}
	if n >= MaxSubscriptions {
		s.fail(m.ID, "too_many_subscriptions", fmt.Sprintf("at most %d subscriptions per connection", MaxSubscriptions))
		return true
	}
	var req request
	if err := json.Unmarshal(m.Payload, &req); err != nil {
		s.closeWith(closeBadMessage, "Invalid message received")
		return false
	}
	if status, code, msg := s.g.limits.check(req.Query); status != 0 {
		s.fail(m.ID, code, msg)
		return true
	}
	op, err := s.g.prepare(req)
	if err != nil {
		var pe prepareError
		if errors.As(err, &pe) {
			s.fail(m.ID, pe.code, pe.msg)
		} else {
			s.fail(m.ID, "validation_failed", err.Error())
		}
		return true
	}
	sctx, stop := context.WithCancel(ctx)
	s.mu.Lock()
	s.subs[m.ID] = stop
	who, token := s.who, s.token
	s.mu.Unlock()
	go s.g.runSubscription(sctx, s, m.ID, op, who, token)
	return true
}

// fail answers a subscribe that does not start with an error message.
func (s *wsSession) fail(id, code, msg string) {
	s.send(wsMessage{ID: id, Type: "error", Payload: errorList(code, msg)})
}

func errorList(code, msg string) json.RawMessage {
	payload, _ := json.Marshal([]map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}})
	return payload
}

// end terminates a running operation with an error message (after which
// the protocol sends nothing more for it, not even complete).
func (s *wsSession) end(id string, errs json.RawMessage) {
	s.mu.Lock()
	delete(s.subs, id)
	s.mu.Unlock()
	s.send(wsMessage{ID: id, Type: "error", Payload: errs})
}

// finish ends an operation from the server side: complete, unless it
// already ended (the client's complete, an error).
func (s *wsSession) finish(id string) {
	s.mu.Lock()
	_, live := s.subs[id]
	delete(s.subs, id)
	s.mu.Unlock()
	if live {
		s.send(wsMessage{ID: id, Type: "complete"})
	}
}

// send queues a message; a subscriber whose queue is full is too slow
// and is disconnected rather than slowing the feed.
func (s *wsSession) send(m wsMessage) {
	b, _ := json.Marshal(m)
	select {
	case s.out <- b:
	case <-s.done:
	default:
		go s.closeWith(websocket.CloseTryAgainLater, "too slow")
	}
}

// write is the connection's one writer: queued messages and pings.
func (s *wsSession) write(ctx context.Context) {
	t := time.NewTicker(pingPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-s.out:
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if s.conn.WriteMessage(websocket.TextMessage, b) != nil {
				_ = s.conn.Close()
				return
			}
		case <-t.C:
			if s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)) != nil {
				_ = s.conn.Close()
				return
			}
		}
	}
}

// closeWith ends the connection with a protocol close code.
// It holds the session's lock while writing, so that it never touches the
// connection after run has given it back.
func (s *wsSession) closeWith(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, stop := range s.subs {
		stop()
	}
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	_ = s.conn.Close()
}

// prepareError is a subscribe refused with a code.
type prepareError struct{ code, msg string }

func (e prepareError) Error() string { return e.msg }

// subscription is a validated subscribe: its root field, the operation
// the engine runs for each change (orderStatus), or the selection to
// project pushed events onto (the others).
type subscription struct {
	field     subscriptionField
	key       string // the response key (alias or name)
	args      map[string]string
	query     string // orderStatus: the operation as a query
	opName    string
	variables json.RawMessage
	selection *projection
}

// prepare parses, normalizes (fragments inlined, fields merged) and
// validates a subscribe's operation against the schema with its
// Subscription type.
func (g *Gateway) prepare(req request) (*subscription, error) {
	if strings.TrimSpace(req.Query) == "" {
		return nil, prepareError{"bad_request", "query is required"}
	}
	if len(req.Variables) > 0 && !json.Valid(req.Variables) {
		return nil, prepareError{"bad_request", "variables are not JSON"}
	}
	doc, rep := astparser.ParseGraphqlDocumentString(req.Query)
	if rep.HasErrors() {
		return nil, prepareError{"graphql_parse_failed", rep.Error()}
	}
	name := req.OperationName
	if name == "" {
		if len(doc.OperationDefinitions) != 1 {
			return nil, prepareError{"bad_request", "operationName is required with several operations"}
		}
		name = doc.OperationDefinitionNameString(0)
	}
	doc.Input.Variables = []byte("{}")
	if len(req.Variables) > 0 && string(req.Variables) != "null" {
		doc.Input.Variables = req.Variables
	}
	var nrep operationreport.Report
	astnormalization.NormalizeNamedOperation(&doc, g.subSchema, []byte(name), &nrep)
	if nrep.HasErrors() {
		return nil, prepareError{"validation_failed", nrep.Error()}
	}
	var vrep operationreport.Report
	astvalidation.DefaultOperationValidator().Validate(&doc, g.subSchema, &vrep)
	if vrep.HasErrors() {
		return nil, prepareError{"validation_failed", vrep.Error()}
	}
	op := -1
	for i := range doc.OperationDefinitions {
		if doc.OperationDefinitionNameString(i) == name {
			op = i
		}
	}
	if op == -1 {
		return nil, prepareError{"bad_request", "no operation named " + name}
	}
	if doc.OperationDefinitions[op].OperationType != ast.OperationTypeSubscription {
		return nil, prepareError{"bad_request", "only subscriptions are served over this connection; use POST /graphql"}
	}
	set := doc.OperationDefinitions[op].SelectionSet
	roots := doc.SelectionSetFieldSelections(set)
	if len(roots) != 1 || len(doc.SelectionSets[set].SelectionRefs) != 1 {
		return nil, prepareError{"bad_request", "a subscription selects exactly one field"}
	}
	fieldRef := doc.Selections[roots[0]].Ref
	field := doc.FieldNameString(fieldRef)
	sub := &subscription{key: doc.FieldAliasOrNameString(fieldRef), opName: name, variables: doc.Input.Variables, args: map[string]string{}}
	for _, f := range subscriptionFields {
		if f.name == field {
			sub.field = f
		}
	}
	for _, a := range doc.FieldArguments(fieldRef) {
		v, err := argumentString(&doc, doc.ArgumentValue(a), doc.Input.Variables)
		if err != nil {
			return nil, prepareError{"bad_request", err.Error()}
		}
		sub.args[doc.ArgumentNameString(a)] = v
	}
	if field != "orderStatus" {
		sel, err := newProjection(&doc, g.subSchema, fieldRef, sub.field.returns)
		if err != nil {
			return nil, prepareError{"bad_request", err.Error()}
		}
		sub.selection = sel
		return sub, nil
	}
	// The same operation as a query of order(id:), printed back; its
	// variables are the normalized ones (literals may have become some).
	doc.OperationDefinitions[op].OperationType = ast.OperationTypeQuery
	doc.Fields[fieldRef].Alias = ast.Alias{IsDefined: true, Name: doc.Input.AppendInputString(sub.key)}
	doc.Fields[fieldRef].Name = doc.Input.AppendInputString("order")
	for _, a := range doc.FieldArguments(fieldRef) {
		if doc.ArgumentNameString(a) == "orderId" {
			doc.Arguments[a].Name = doc.Input.AppendInputString("id")
		}
	}
	q, err := astprinter.PrintString(&doc)
	if err != nil {
		return nil, fmt.Errorf("graphql: printing the subscription as a query: %w", err)
	}
	sub.query = q
	return sub, nil
}

// argumentString is an argument's value as a string: an ID literal or a
// variable's.
func argumentString(doc *ast.Document, v ast.Value, variables json.RawMessage) (string, error) {
	switch v.Kind {
	case ast.ValueKindString:
		return doc.StringValueContentString(v.Ref), nil
	case ast.ValueKindInteger:
		return doc.IntValueRaw(v.Ref).String(), nil
	case ast.ValueKindVariable:
		name := doc.VariableValueNameString(v.Ref)
		var vars map[string]any
		_ = json.Unmarshal(variables, &vars)
		switch x := vars[name].(type) {
		case string:
			return x, nil
		case float64:
			return fmt.Sprint(x), nil
		}
		return "", fmt.Errorf("variable $%s is required", name)
	}
	return "", errors.New("an ID argument is expected")
}

// runSubscription feeds one operation until its context ends.
func (g *Gateway) runSubscription(ctx context.Context, s *wsSession, id string, sub *subscription, who authn.Principal, token string) {
	defer s.finish(id)
	ctx = WithVerifiedCaller(ctx, token, who)
	stream, err := sub.field.feed(g.live)(ctx, who.UserID)
	if err != nil {
		s.end(id, errorList("unavailable", "live updates are unavailable; try again"))
		return
	}
	defer stream.Close()
	var last []byte
	// orderStatus: the order now, then after each change. The stream is
	// open before the first read, so no change falls in between.
	refresh := func() bool {
		_, body := g.Execute(ctx, token, sub.query, sub.opName, sub.variables)
		var env struct {
			Data   json.RawMessage   `json:"data"`
			Errors []json.RawMessage `json:"errors"`
		}
		if json.Unmarshal(body, &env) != nil {
			return false
		}
		if len(env.Errors) > 0 && (len(env.Data) == 0 || bytes.Equal(env.Data, []byte("null")) || bytes.Contains(env.Data, []byte(`"`+sub.key+`":null`))) {
			// Another user's order, or one that does not exist: nothing
			// is sent but the error, as REST answers 404.
			errs, _ := json.Marshal(env.Errors)
			s.end(id, errs)
			return false
		}
		if bytes.Equal(body, last) {
			return true
		}
		last = body
		s.send(wsMessage{ID: id, Type: "next", Payload: body})
		return true
	}
	if sub.query != "" && !refresh() {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-stream.Gone():
			return
		case p := <-stream.C():
			switch sub.field.name {
			case "orderStatus":
				var head struct {
					Kind string `json:"kind"`
				}
				if json.Unmarshal(p, &head) == nil && orderKinds[head.Kind] && !refresh() {
					return
				}
			case "chatMessages":
				var head struct {
					Type           string `json:"type"`
					ConversationID string `json:"conversation_id"`
				}
				if json.Unmarshal(p, &head) != nil || head.Type != "message" || head.ConversationID != sub.args["conversationId"] {
					continue
				}
				s.next(id, sub, p)
			default:
				s.next(id, sub, p)
			}
		}
	}
}

// next sends a pushed event projected onto the subscription's selection.
func (s *wsSession) next(id string, sub *subscription, event []byte) {
	var src map[string]any
	if json.Unmarshal(event, &src) != nil {
		return
	}
	body, err := json.Marshal(map[string]any{"data": map[string]any{sub.key: sub.selection.apply(src)}})
	if err != nil {
		return
	}
	s.send(wsMessage{ID: id, Type: "next", Payload: body})
}
