package acceptance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// gqlWait polls a query until ok accepts its data (the effects of events
// arrive asynchronously), failing after 30 s with the last answer.
func gqlWait(t *testing.T, base, token, query string, vars map[string]any, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := gqlOK(t, base, token, query, vars)
		if ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// items is the list at path of a GraphQL answer.
func items(d map[string]any, path ...any) []any {
	a, _ := dig(d, path...).([]any)
	return a
}

const notificationsQuery = `query($first: Int, $after: String) { notifications(first: $first, after: $after) {
  items { id kind title body readAt createdAt } nextCursor unread } }`

// notify's subgraph: the caller's notifications (those a registration's
// events create) are REST's list, page for page, with the unread count;
// markNotificationRead and markAllNotificationsRead; REST's codes for
// anonymous callers, others' notifications and a bad page size; in both
// topologies.
func TestGraphQLNotifications(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "graph-notes@shop.test")
	other := customerToken(t, s.u, s.smtp, "graph-notes-other@shop.test")

	// Registering and verifying make welcome and email_verified notifications.
	d := gqlWait(t, s.u, tok, notificationsQuery, nil, "notifications of a new user", func(d map[string]any) bool {
		kinds := []any{}
		for _, it := range items(d, "notifications", "items") {
			kinds = append(kinds, dig(it, "kind"))
		}
		return slices.Contains(kinds, "WELCOME") && slices.Contains(kinds, "EMAIL_VERIFIED")
	})
	list := items(d, "notifications", "items")
	rest := expect(t, call(t, s.u, "GET", "/api/v1/notifications", nil, tok), 200, "REST notifications").JSON()
	restItems := rest["items"].([]any)
	if len(list) != len(restItems) || dig(d, "notifications", "unread") != rest["unread"] || dig(d, "notifications", "unread") != float64(len(list)) {
		t.Fatalf("graphql %v\nrest %v", d, rest)
	}
	for i, it := range list {
		r := restItems[i].(map[string]any)
		if dig(it, "id") != r["id"] || dig(it, "kind") != strings.ToUpper(r["kind"].(string)) || dig(it, "title") != r["title"] ||
			dig(it, "body") != r["body"] || dig(it, "readAt") != nil || dig(it, "createdAt") == "" {
			t.Fatalf("item %d: graphql %v, rest %v", i, it, r)
		}
	}

	// Pages: first 1, then after its cursor, as REST's limit and cursor.
	p1 := gqlOK(t, s.u, tok, notificationsQuery, map[string]any{"first": 1})
	cur, _ := dig(p1, "notifications", "nextCursor").(string)
	if len(items(p1, "notifications", "items")) != 1 || cur == "" || dig(p1, "notifications", "items", 0, "id") != dig(list[0], "id") {
		t.Fatalf("first page: %v", p1)
	}
	p2 := gqlOK(t, s.u, tok, notificationsQuery, map[string]any{"first": 1, "after": cur})
	if dig(p2, "notifications", "items", 0, "id") != dig(list[1], "id") {
		t.Fatalf("second page: %v", p2)
	}

	// Mark one read: REST sees it read and the unread count drops.
	first := dig(list[0], "id").(string)
	mark := `mutation($id: ID!) { markNotificationRead(id: $id) }`
	if d := gqlOK(t, s.u, tok, mark, map[string]any{"id": first}); d["markNotificationRead"] != true {
		t.Fatalf("markNotificationRead: %v", d)
	}
	gqlOK(t, s.u, tok, mark, map[string]any{"id": first}) // idempotent
	d = gqlOK(t, s.u, tok, notificationsQuery, nil)
	if dig(d, "notifications", "unread") != float64(len(list)-1) || dig(d, "notifications", "items", 0, "readAt") == nil {
		t.Fatalf("after markNotificationRead: %v", d)
	}
	rest = expect(t, call(t, s.u, "GET", "/api/v1/notifications", nil, tok), 200, "REST notifications").JSON()
	if rest["unread"] != float64(len(list)-1) || rest["items"].([]any)[0].(map[string]any)["read_at"] == nil {
		t.Fatalf("REST after markNotificationRead: %v", rest)
	}

	// REST's codes.
	if r := gqlDo(t, s.u, "", notificationsQuery, nil); r.Status != 200 || r.code() != "unauthenticated" {
		t.Fatalf("anonymous notifications: %d %s", r.Status, r.Raw)
	}
	if r := gqlDo(t, s.u, "", `mutation { markAllNotificationsRead }`, nil); r.code() != "unauthenticated" {
		t.Fatalf("anonymous markAllNotificationsRead: %s", r.Raw)
	}
	for _, id := range []string{first, "not-a-uuid", "00000000-0000-7000-8000-000000000000"} {
		if r := gqlDo(t, s.u, other, mark, map[string]any{"id": id}); r.code() != "not_found" {
			t.Fatalf("mark %s as another user: %s", id, r.Raw)
		}
	}
	for _, n := range []int{0, 101} {
		if r := gqlDo(t, s.u, tok, notificationsQuery, map[string]any{"first": n}); r.code() != "validation_failed" {
			t.Fatalf("first %d: %s", n, r.Raw)
		}
	}
	if r := gqlDo(t, s.u, tok, notificationsQuery, map[string]any{"after": "%%%"}); r.code() != "invalid_cursor" {
		t.Fatalf("bad cursor: %s", r.Raw)
	}
	expectProblem(t, call(t, s.u, "GET", "/api/v1/notifications?cursor=%25%25%25", nil, tok), 400, "invalid_cursor", "REST bad cursor")

	// Mark all read: how many were unread; none are now, the other user's untouched.
	waitNotification(t, s.u, other, "email_verified")
	if d := gqlOK(t, s.u, tok, `mutation { markAllNotificationsRead }`, nil); d["markAllNotificationsRead"] != float64(len(list)-1) {
		t.Fatalf("markAllNotificationsRead: %v", d)
	}
	if d := gqlOK(t, s.u, tok, `mutation { markAllNotificationsRead }`, nil); d["markAllNotificationsRead"] != 0.0 {
		t.Fatalf("markAllNotificationsRead again: %v", d)
	}
	if d := gqlOK(t, s.u, tok, notificationsQuery, nil); dig(d, "notifications", "unread") != 0.0 {
		t.Fatalf("after markAllNotificationsRead: %v", d)
	}
	if rest := expect(t, call(t, s.u, "GET", "/api/v1/notifications", nil, other), 200, "other's notifications").JSON(); rest["unread"].(float64) == 0 {
		t.Fatalf("another user's notifications were marked read: %v", rest)
	}
}

const conversationsQuery = `query($first: Int, $after: String) { conversations { id kind title status createdBy unread assigned lastSeq lastMessageAt
  participants { userId role lastReadSeq }
  messages(first: $first, after: $after) { items { id seq senderId clientId kind text createdAt } nextCursor } } }`

const sendMessage = `mutation($c: ID!, $text: String!, $client: String!) { sendMessage(conversationId: $c, text: $text, clientId: $client) {
  id conversationId seq senderId clientId kind text createdAt } }`

// conversation is the conversation id of a conversations answer.
func conversation(d map[string]any, id string) map[string]any {
	for _, c := range items(d, "conversations") {
		if dig(c, "id") == id {
			return c.(map[string]any)
		}
	}
	return nil
}

// chat's subgraph: the caller's conversations (an admin also sees an
// unassigned support conversation but reads it only after joining, as in
// REST), their history paged like REST's, and sendMessage with the
// WebSocket's validation and codes: a resend is stored once, a connected
// participant receives it live, an offline one gets a notification.
func TestGraphQLChat(t *testing.T) {
	s := newShop(t, nil)
	cust := customerToken(t, s.u, s.smtp, "graph-chat@shop.test")
	other := customerToken(t, s.u, s.smtp, "graph-chat-other@shop.test")
	custID, adminID := userID(t, s.u, cust), userID(t, s.u, s.admin)
	id := expect(t, call(t, s.u, "POST", "/api/v1/chat/conversations", map[string]any{"title": "Graph parcel"}, cust), 201, "open support").Str("id")

	d := gqlOK(t, s.u, cust, conversationsQuery, nil)
	c := conversation(d, id)
	if c == nil || c["kind"] != "SUPPORT" || c["status"] != "OPEN" || c["title"] != "Graph parcel" || c["createdBy"] != custID || c["assigned"] != false ||
		c["lastMessageAt"] != nil || dig(c, "participants", 0, "userId") != custID || dig(c, "participants", 0, "role") != "CUSTOMER" ||
		len(items(c, "messages", "items")) != 0 {
		t.Fatalf("customer's conversations: %v", d)
	}
	// An admin sees it unassigned, but its history only after joining.
	r := gqlDo(t, s.u, s.admin, conversationsQuery, nil)
	if c := conversation(r.Data, id); c == nil || c["assigned"] != false || c["messages"] != nil || r.code() != "not_found" {
		t.Fatalf("admin's conversations before joining: %s", r.Raw)
	}
	if d := gqlOK(t, s.u, other, `{ conversations { id } }`, nil); conversation(d, id) != nil {
		t.Fatalf("a bystander sees the conversation: %v", d)
	}
	expect(t, call(t, s.u, "POST", "/api/v1/chat/conversations/"+id+"/join", nil, s.admin), 200, "admin joins")

	// The admin is offline: the message makes a chat notification for them.
	d = gqlOK(t, s.u, cust, sendMessage, map[string]any{"c": id, "text": "Where is my parcel?", "client": "g-1"})
	m1, _ := dig(d, "sendMessage", "id").(string)
	if m1 == "" || dig(d, "sendMessage", "seq") != 1.0 || dig(d, "sendMessage", "senderId") != custID || dig(d, "sendMessage", "kind") != "TEXT" ||
		dig(d, "sendMessage", "text") != "Where is my parcel?" || dig(d, "sendMessage", "conversationId") != id {
		t.Fatalf("sendMessage: %v", d)
	}
	if again := gqlOK(t, s.u, cust, sendMessage, map[string]any{"c": id, "text": "Where is my parcel?", "client": "g-1"}); dig(again, "sendMessage", "id") != m1 {
		t.Fatalf("resend: %v, want %s", again, m1)
	}
	gqlWait(t, s.u, s.admin, notificationsQuery, nil, "the offline admin's chat notification", func(d map[string]any) bool {
		for _, it := range items(d, "notifications", "items") {
			if dig(it, "kind") == "CHAT_MESSAGE" && strings.Contains(dig(it, "title").(string), "Graph parcel") {
				return true
			}
		}
		return false
	})

	// A connected participant receives a message sent over GraphQL live.
	aws := dialChat(t, s.u, s.admin, false)
	// A reply to a bad frame means the connection is served (subscribed).
	aws.send(map[string]any{"type": "bogus"})
	aws.expectFrame("error", nil)
	d = gqlOK(t, s.u, cust, sendMessage, map[string]any{"c": id, "text": "It was due Monday", "client": "g-2"})
	m2 := dig(d, "sendMessage", "id")
	if f := aws.expectFrame("message", nil); f["id"] != m2 || f["text"] != "It was due Monday" || f["sender_id"] != custID {
		t.Fatalf("live frame: %v", f)
	}
	d = gqlOK(t, s.u, s.admin, sendMessage, map[string]any{"c": id, "text": "Looking into it", "client": "a-1"})
	if dig(d, "sendMessage", "senderId") != adminID || dig(d, "sendMessage", "seq") != 3.0 {
		t.Fatalf("admin's reply: %v", d)
	}

	// History, newest first, paged like REST's.
	d = gqlOK(t, s.u, cust, conversationsQuery, map[string]any{"first": 2})
	c = conversation(d, id)
	msgs := items(c, "messages", "items")
	cur, _ := dig(c, "messages", "nextCursor").(string)
	if len(msgs) != 2 || dig(msgs[0], "text") != "Looking into it" || dig(msgs[1], "id") != m2 || cur == "" || c["lastSeq"] != 3.0 ||
		c["unread"] != 1.0 || c["assigned"] != true || c["lastMessageAt"] == nil {
		t.Fatalf("customer's history: %v", c)
	}
	hist := expect(t, call(t, s.u, "GET", "/api/v1/chat/conversations/"+id+"/messages?limit=2", nil, cust), 200, "REST history").JSON()
	if hist["next_cursor"] != cur || hist["items"].([]any)[1].(map[string]any)["id"] != m2 {
		t.Fatalf("REST history %v, graphql %v", hist, c)
	}
	d = gqlOK(t, s.u, cust, conversationsQuery, map[string]any{"first": 2, "after": cur})
	if msgs := items(conversation(d, id), "messages", "items"); len(msgs) != 1 || dig(msgs[0], "id") != m1 || dig(conversation(d, id), "messages", "nextCursor") != nil {
		t.Fatalf("older page: %v", d)
	}
	if d := gqlOK(t, s.u, s.admin, `{ conversations { id messages(q: "parcel") { items { id } } } }`, nil); len(items(conversation(d, id), "messages", "items")) != 1 {
		t.Fatalf("history search: %v", d)
	}

	// The WebSocket's and REST's codes.
	bad := []struct {
		tok, conv, text, client, code string
	}{
		{"", id, "hi", "x-1", "unauthenticated"},
		{other, id, "hi", "x-2", "not_found"},
		{cust, "not-a-uuid", "hi", "x-3", "not_found"},
		{cust, id, "   ", "x-4", "bad_message"},
		{cust, id, "hi", "", "bad_message"},
		{cust, id, "hi", strings.Repeat("c", 65), "bad_message"},
		{cust, id, strings.Repeat("a", 8*1024+1), "x-5", "message_too_large"},
	}
	for _, b := range bad {
		if r := gqlDo(t, s.u, b.tok, sendMessage, map[string]any{"c": b.conv, "text": b.text, "client": b.client}); r.Status != 200 || r.code() != b.code {
			t.Fatalf("sendMessage %.40q to %s: want %s, got %d %.300s", b.text, b.conv, b.code, r.Status, r.Raw)
		}
	}
	if r := gqlDo(t, s.u, cust, conversationsQuery, map[string]any{"first": 0}); r.code() != "validation_failed" {
		t.Fatalf("first 0: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, cust, conversationsQuery, map[string]any{"after": "x"}); r.code() != "validation_failed" {
		t.Fatalf("bad cursor: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, "", `{ conversations { id } }`, nil); r.code() != "unauthenticated" {
		t.Fatalf("anonymous conversations: %s", r.Raw)
	}
	expect(t, call(t, s.u, "POST", "/api/v1/chat/conversations/"+id+"/close", nil, cust), 200, "close")
	if r := gqlDo(t, s.u, cust, sendMessage, map[string]any{"c": id, "text": "hello?", "client": "g-3"}); r.code() != "conversation_closed" {
		t.Fatalf("send to a closed conversation: %s", r.Raw)
	}
	if d := gqlOK(t, s.u, cust, `{ conversations { id status } }`, nil); dig(conversation(d, id), "status") != "CLOSED" {
		t.Fatalf("closed: %v", d)
	}
}

const searchQuery = `query($q: String, $category: String, $brand: String, $min: Int, $max: Int, $sort: SearchSort, $first: Int, $after: String) {
  search(q: $q, category: $category, brand: $brand, minPrice: $min, maxPrice: $max, sort: $sort, first: $first, after: $after) {
    total nextCursor tookMs
    hits { id name brand category price { amount currency } stock { available } }
    facets { category { value count } brand { value count } price { value count } } } }`

// facetMap is a GraphQL facet as REST's map.
func facetMap(d map[string]any, name string) map[string]any {
	out := map[string]any{}
	for _, f := range items(d, "search", "facets", name) {
		out[dig(f, "value").(string)] = dig(f, "count")
	}
	return out
}

// search's subgraph: hits are Product references whose fields (name,
// price, stock) catalog's subgraph resolves through the gateway; total,
// facets and pages are REST's search's; REST's codes for bad input; in
// both topologies (search and catalog in processes of their own when
// split).
func TestGraphQLSearch(t *testing.T) {
	s := newShop(t, nil)
	mk := func(name, brand, category string, price int) string {
		return expect(t, call(t, s.u, "POST", "/api/v1/admin/products", map[string]any{"sku": "G-" + strings.ReplaceAll(name, " ", "-"), "name": name,
			"brand": brand, "category": category, "price": price, "currency": "USD", "description": name + " by " + brand, "initial_stock": 5}, s.admin), 201, "create").Str("id")
	}
	sony := mk("Wireless Noise Cancelling Headphones", "Sony", "audio", 29999)
	studio := mk("Studio Headphones", "Audio-Technica", "audio", 14900)
	mk("Galaxy Smartphone", "Samsung", "phones", 2500)
	mk("Electric Kettle", "Breville", "kitchen", 5000)
	mk("Travel Kettle", "Breville", "kitchen", 2400)

	gqlWait(t, s.u, "", searchQuery, map[string]any{"first": 1}, "the index", func(d map[string]any) bool { return dig(d, "search", "total") == 5.0 })

	// Typo-tolerant; the hits' fields come from catalog.
	d := gqlOK(t, s.u, "", searchQuery, map[string]any{"q": "hedphones", "sort": "PRICE_DESC"})
	hits := items(d, "search", "hits")
	if len(hits) != 2 || dig(hits[0], "id") != sony || dig(hits[0], "name") != "Wireless Noise Cancelling Headphones" ||
		dig(hits[0], "price", "amount") != 29999.0 || dig(hits[0], "price", "currency") != "USD" || dig(hits[0], "brand") != "Sony" ||
		dig(hits[0], "stock", "available") != 5.0 || dig(hits[1], "id") != studio || dig(hits[1], "price", "amount") != 14900.0 {
		t.Fatalf("hedphones: %v", d)
	}
	if f := facetMap(d, "category"); len(f) != 1 || f["audio"] != 2.0 {
		t.Fatalf("category facet: %v", d)
	}
	if f := facetMap(d, "price"); f["10000-25000"] != 1.0 || f["25000-50000"] != 1.0 {
		t.Fatalf("price facet: %v", d)
	}

	// Total and facets are REST's, for the same filters.
	for _, c := range []struct {
		vars map[string]any
		rest string
	}{
		{map[string]any{}, ""},
		{map[string]any{"q": "kettle"}, "q=kettle"},
		{map[string]any{"category": "kitchen", "sort": "PRICE_ASC"}, "category=kitchen&sort=price_asc"},
		{map[string]any{"min": 2500, "max": 5000}, "min_price=2500&max_price=5000"},
		{map[string]any{"brand": "Breville", "sort": "NEWEST"}, "brand=Breville&sort=newest"},
	} {
		d := gqlOK(t, s.u, "", searchQuery, c.vars)
		rest := s.search(c.rest)
		if dig(d, "search", "total") != rest["total"] {
			t.Fatalf("%v: total %v, REST %v", c.vars, dig(d, "search", "total"), rest["total"])
		}
		for _, facet := range []string{"category", "brand", "price"} {
			if got, want := facetMap(d, facet), rest["facets"].(map[string]any)[facet]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%v: %s facet %v, REST %v", c.vars, facet, got, want)
			}
		}
		var names []string
		for _, h := range items(d, "search", "hits") {
			names = append(names, dig(h, "name").(string))
		}
		if !slices.Equal(names, hitNames(rest)) {
			t.Fatalf("%v: hits %v, REST %v", c.vars, names, hitNames(rest))
		}
	}
	// The category and brand facets list the most hits first.
	d = gqlOK(t, s.u, "", searchQuery, nil)
	if dig(d, "search", "facets", "category", 0, "count") != 2.0 || dig(d, "search", "facets", "price", 0, "value") != "0-2500" {
		t.Fatalf("facet order: %v", d)
	}

	// Pages: no duplicates, no gaps.
	var seen []string
	var after any
	for page := 0; ; page++ {
		d := gqlOK(t, s.u, "", searchQuery, map[string]any{"sort": "PRICE_ASC", "first": 2, "after": after})
		for _, h := range items(d, "search", "hits") {
			seen = append(seen, dig(h, "id").(string))
		}
		if after = dig(d, "search", "nextCursor"); after == nil || page > 5 {
			break
		}
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != 5 {
		t.Fatalf("pages: %v", seen)
	}

	// REST's codes for bad input.
	for _, c := range []struct {
		vars map[string]any
		code string
	}{
		{map[string]any{"min": -1}, "validation_failed"},
		{map[string]any{"min": 5000, "max": 2500}, "validation_failed"},
		{map[string]any{"first": 0}, "validation_failed"},
		{map[string]any{"first": 101}, "validation_failed"},
		{map[string]any{"category": strings.Repeat("c", 201)}, "validation_failed"},
		{map[string]any{"after": "garbage"}, "bad_cursor"},
	} {
		if r := gqlDo(t, s.u, "", searchQuery, c.vars); r.Status != 200 || r.code() != c.code {
			t.Fatalf("%v: want %s, got %d %.300s", c.vars, c.code, r.Status, r.Raw)
		}
	}
	expectProblem(t, call(t, s.u, "GET", "/api/v1/search?cursor=garbage", nil, ""), 400, "bad_cursor", "REST bad cursor")
	if r := gqlDo(t, s.u, "", `{ search(sort: CHEAPEST) { total } }`, nil); r.code() != "validation_failed" {
		t.Fatalf("unknown sort: %s", r.Raw)
	}
	// Symbols only search nothing, like REST.
	if d := gqlOK(t, s.u, "", searchQuery, map[string]any{"q": "%%% ;--"}); dig(d, "search", "total") != 0.0 {
		t.Fatalf("symbols: %v", d)
	}
}
