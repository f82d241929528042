package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/server"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// Tables that may change while a request is rejected, and why:
//   - platform.idempotency_keys: the idempotency middleware records the
//     outcome of a keyed request, rejections included, so a retry replays
//     it (this test sends no Idempotency-Key, but workers purge the table);
//   - platform.instances: each process's heartbeat, every 2 s;
//   - events.* and every <context>.inbox: the event relay and consumers
//     write offsets and dedupe rows in the background, never for a request;
//   - platform.audit_log: an administrator's refused change (a 4xx on an
//     admin POST/PUT/PATCH/DELETE) is recorded with its status on purpose;
//     a customer's or anonymous request never is (see
//     TestAdminRoutesRefuseEveryoneElse, which does not exclude it);
//   - search.queries: the search log, written in batches off the request
//     path for answered searches;
//   - search.products, search.stock, search.terms, notify.users,
//     notify.orders: read models of other contexts, written only by event
//     consumers in the background (an accepted write's events may land
//     while a later request is being rejected). A rejected request that
//     wrongly wrote and published would still show in the source tables.
//
// Everything else is business data: a rejected request must leave it as is.
func excludedTable(schema, table string) bool {
	return schema == "events" || table == "inbox" || schema+"."+table == "platform.idempotency_keys" || schema+"."+table == "platform.instances" ||
		schema+"."+table == "platform.audit_log" ||
		schema+"."+table == "search.queries" ||
		projections[schema+"."+table]
}

var projections = map[string]bool{"search.products": true, "search.stock": true, "search.terms": true, "notify.users": true, "notify.orders": true}

// snapshotter checksums every business table (row count and a sum of row
// hashes per table) and watches the next transaction id, which moves only
// when some transaction wrote (or locked) something: the checksum, which
// is the slow part, runs only then.
type snapshotter struct {
	t      *testing.T
	db     *pg.DB
	query  string
	tables []string
}

func newSnapshotter(t *testing.T, db *pg.DB) *snapshotter {
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_%'
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	s := &snapshotter{t: t, db: db}
	var parts []string
	for rows.Next() {
		var schema, table string
		if err := rows.Scan(&schema, &table); err != nil {
			t.Fatal(err)
		}
		if excludedTable(schema, table) || strings.HasPrefix(table, "schema_migrations") || strings.HasPrefix(table, "goose") {
			continue
		}
		name := fmt.Sprintf("%q.%q", schema, table)
		s.tables = append(s.tables, schema+"."+table)
		parts = append(parts, fmt.Sprintf("SELECT '%s.%s', count(*), coalesce(sum(hashtext(t::text)::bigint), 0) FROM %s t", schema, table, name))
	}
	if len(s.tables) < 20 {
		t.Fatalf("only %d tables found: %v", len(s.tables), s.tables)
	}
	s.query = strings.Join(parts, " UNION ALL ")
	return s
}

func (s *snapshotter) xmax() int64 {
	var x int64
	if err := s.db.QueryRowContext(context.Background(), `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&x); err != nil {
		s.t.Fatal(err)
	}
	return x
}

func (s *snapshotter) sums() map[string]string {
	rows, err := s.db.QueryContext(context.Background(), s.query)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name string
		var n, h int64
		if err := rows.Scan(&name, &n, &h); err != nil {
			s.t.Fatal(err)
		}
		out[name] = fmt.Sprintf("%d/%d", n, h)
	}
	return out
}

// quiet waits until the business tables stop changing (consumers of an
// accepted write's events are done), up to a bound, and returns their
// checksums.
func (s *snapshotter) quiet() map[string]string {
	prev := s.sums()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		now := s.sums()
		if len(diff(prev, now)) == 0 {
			return now
		}
		prev = now
	}
	return prev
}

func diff(a, b map[string]string) []string {
	var out []string
	for k, v := range b {
		if a[k] != v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// probe is one hostile request.
type probe struct {
	method, path string
	body         []byte // nil: none
	what         string
}

type hostileRun struct {
	t       *testing.T
	base    string
	client  *http.Client
	snap    *snapshotter
	sum     map[string]string
	sumX    int64
	sent    int
	fivexx  int
	written int
	sums    int
}

func (h *hostileRun) send(p probe, token string) int {
	h.t.Helper()
	var rd io.Reader
	if p.body != nil {
		rd = bytes.NewReader(p.body)
	}
	req, err := http.NewRequest(p.method, h.base+p.path, rd)
	if err != nil {
		h.t.Fatalf("%s %s: %v", p.method, p.path, err)
	}
	if p.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := h.client.Do(req)
	if err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:] // the URL in the error may be huge
		}
		h.t.Errorf("%s %.120s (%s): %s", p.method, p.path, p.what, msg)
		return 0
	}
	defer res.Body.Close()
	var b []byte
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ = io.ReadAll(io.LimitReader(res.Body, 4096))
	}
	if res.StatusCode >= 500 {
		h.fivexx++
		h.t.Errorf("%d on %s %.150s (%s, token=%t): %.300s", res.StatusCode, p.method, p.path, p.what, token != "", b)
	}
	if res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		h.t.Errorf("%d without problem+json on %s %.150s (%s): %s", res.StatusCode, p.method, p.path, p.what, res.Header.Get("Content-Type"))
	}
	return res.StatusCode
}

// do sends p and checks that a rejected request wrote no row.
func (h *hostileRun) do(p probe, token string) {
	h.t.Helper()
	x0 := h.snap.xmax()
	if x0 != h.sumX { // something wrote since the last checksum (a worker)
		h.sum, h.sumX = h.snap.sums(), h.snap.xmax()
		h.sums++
		x0 = h.sumX
	}
	status := h.send(p, token)
	h.sent++
	if status != 0 && status < 400 && (strings.HasSuffix(p.what, " NUL") || strings.HasSuffix(p.what, "invalid UTF-8") || strings.HasPrefix(p.what, "NUL")) {
		h.t.Errorf("%d: %s %.150s (%s) accepted", status, p.method, p.path, p.what)
	}
	switch {
	case status >= 400:
		if h.snap.xmax() == x0 { // no transaction took an id: nothing written
			return
		}
		now := h.snap.sums()
		h.sums++
		if changed := diff(h.sum, now); len(changed) > 0 {
			h.written++
			h.t.Errorf("%d on %s %.150s (%s) but tables changed: %v", status, p.method, p.path, p.what, changed)
		}
		h.sum, h.sumX = now, h.snap.xmax()
	case status != 0 && p.method != "GET":
		h.sumX = h.snap.xmax()
		h.sum = h.snap.quiet() // a write was accepted: let its consumers finish
		h.sums += 2
	}
}

type schema = map[string]any

// resolve follows a $ref into components.
func resolve(doc schema, s schema) schema {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		comps, _ := doc["components"].(schema)["schemas"].(schema)
		s, _ = comps[strings.TrimPrefix(ref, "#/components/schemas/")].(schema)
		if s == nil {
			return schema{}
		}
	}
}

func typeOf(s schema) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if x != "null" {
				return x.(string)
			}
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[k].([]any); ok {
			for _, a := range alts {
				if m, ok := a.(schema); ok && typeOf(m) != "null" {
					return typeOf(m)
				}
			}
		}
	}
	return ""
}

// fill builds a plausible value for a schema: known ids where a field
// names one, enum values, bounds respected.
func fill(doc schema, s schema, name string, ids map[string]string) any {
	s = resolve(doc, s)
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	switch typeOf(s) {
	case "object":
		out := map[string]any{}
		props, _ := s["properties"].(schema)
		for k, v := range props {
			out[k] = fill(doc, v.(schema), k, ids)
		}
		return out
	case "array":
		items, _ := s["items"].(schema)
		return []any{fill(doc, items, strings.TrimSuffix(name, "s"), ids)}
	case "integer", "number":
		if m, ok := s["minimum"].(float64); ok && m > 1 {
			return m
		}
		return 1
	case "boolean":
		return true
	case "string":
		if id, ok := ids[name]; ok {
			return id
		}
		switch s["format"] {
		case "uuid":
			return ids["id"]
		case "email":
			return "hostile@example.com"
		case "uri":
			return "https://example.com/x.png"
		case "date-time":
			return time.Now().UTC().Format(time.RFC3339)
		}
		switch name {
		case "country":
			return "DE"
		case "currency":
			return "USD"
		case "phone":
			return "+49 151 1234567"
		case "password":
			return "correct horse battery"
		}
		return "valid-text"
	}
	return "x"
}

// leaves lists the JSON paths of every scalar field of a valid body, with
// its schema type.
type leaf struct {
	path []any // string keys and int indexes
	typ  string
}

func leaves(v any, path []any, out *[]leaf) {
	switch x := v.(type) {
	case map[string]any:
		*out = append(*out, leaf{path: path, typ: "object"})
		for k, c := range x {
			leaves(c, append(append([]any{}, path...), k), out)
		}
	case []any:
		*out = append(*out, leaf{path: path, typ: "array"})
		for i, c := range x {
			leaves(c, append(append([]any{}, path...), i), out)
		}
	case string:
		*out = append(*out, leaf{path: path, typ: "string"})
	case float64, int:
		*out = append(*out, leaf{path: path, typ: "number"})
	case bool:
		*out = append(*out, leaf{path: path, typ: "boolean"})
	}
}

// with returns a deep copy of body with the value at path replaced.
func with(body any, path []any, v any) any {
	if len(path) == 0 {
		return v
	}
	switch x := body.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = e
		}
		c[path[0].(string)] = with(x[path[0].(string)], path[1:], v)
		return c
	case []any:
		c := append([]any{}, x...)
		c[path[0].(int)] = with(x[path[0].(int)], path[1:], v)
		return c
	}
	return body
}

func pathString(p []any) string {
	var b strings.Builder
	for _, s := range p {
		switch x := s.(type) {
		case string:
			b.WriteString("." + x)
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		}
	}
	return b.String()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// rawNUL marshals v with the NUL marker replaced by the JSON escape.
func rawNUL(v any) []byte {
	return bytes.ReplaceAll(mustJSON(v), []byte("@@NUL@@"), []byte(`\u0000`))
}

// rawBadUTF8 marshals v with the marker replaced by a byte that is not UTF-8.
func rawBadUTF8(v any) []byte {
	return bytes.ReplaceAll(mustJSON(v), []byte("@@BAD@@"), []byte("\xff\xfe"))
}

// TestHostileInputNeverFailsOrWrites walks every operation of /openapi.json
// with hostile input (NUL and invalid UTF-8 in every string field, query
// and path parameter; 1e300 and -1 for numbers; huge strings; wrong JSON
// types; garbage ids), anonymously and with customer and admin tokens:
// no answer may be a 5xx, every rejection is problem+json, and a rejected
// request writes no row.
func TestHostileInputNeverFailsOrWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every operation")
	}
	e := servertest.Start(t, func(c *config.Config) {
		c.AdminEmail, c.AdminPassword = "admin@shop.test", "admin-password"
		c.RateLimitPerMinute, c.AuthPerMinute, c.LoginMaxFailures = 1_000_000, 1_000_000, 1_000_000
	})
	start := time.Now()
	admin := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "admin@shop.test", "password": "admin-password"}, "").Str("access_token")
	if admin == "" {
		t.Fatal("no admin token")
	}
	if r := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "cust@shop.test", "password": "customer-password", "name": "Cust"}, ""); r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": e.WaitToken("cust@shop.test", "verify_email")}, ""); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	cust := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "cust@shop.test", "password": "customer-password"}, "").Str("access_token")
	pid := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "H1", "name": "Hostile", "category": "c", "price": 900, "currency": "USD", "weight_grams": 100, "initial_stock": 50}, admin).Str("id")
	if pid == "" || cust == "" {
		t.Fatal("setup failed")
	}
	addr := e.Do("POST", "/api/v1/me/addresses", map[string]any{"line1": "1 St", "city": "Berlin", "postal_code": "10115", "country": "DE"}, cust).Str("id")
	e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, cust)
	conv := e.Do("POST", "/api/v1/chat/conversations", map[string]any{"title": "help"}, cust).Str("id")
	ids := map[string]string{"id": pid, "product_id": pid, "address_id": addr, "conversation_id": conv, "participant_id": pid,
		"checkout_session_id": "0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11"}

	var doc schema
	if err := json.Unmarshal(e.Do("GET", "/openapi.json", nil, "").Body, &doc); err != nil {
		t.Fatal(err)
	}
	snap := newSnapshotter(t, e.DB)
	snap.quiet()
	h := &hostileRun{t: t, base: e.URL, client: &http.Client{Timeout: 20 * time.Second}, snap: snap}
	h.sum, h.sumX = snap.sums(), snap.xmax()

	huge := strings.Repeat("x", 100_000)
	garbageIDs := []string{"not-a-uuid", "%00", "%FF%FE", "-1", "1e300", "0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11", url.PathEscape("' OR 1=1 --"), strings.Repeat("9", 2000)}
	badQuery := map[string]string{"NUL": "a%00b", "invalid UTF-8": "%FF%FE", "huge": strings.Repeat("y", 2000), "1e300": "1e300", "-1": "-1",
		// cursors we never issued: JSON with an id no uuid column takes, and an upper-case UUID
		"forged cursor": base64.RawURLEncoding.EncodeToString([]byte(`{"s":"newest","t":"2024-01-01T00:00:00Z","i":"x"}`)),
		"forged id":     base64.RawURLEncoding.EncodeToString([]byte("not-a-uuid-but-36-characters-long!!!"))}

	var only *regexp.Regexp
	if re := os.Getenv("HOSTILE_OPS"); re != "" { // debugging: a subset, e.g. "post /api/v1/auth"
		only = regexp.MustCompile(re)
	}
	paths, _ := doc["paths"].(schema)
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	ops := 0
	for _, path := range names {
		item := paths[path].(schema)
		methods := make([]string, 0, len(item))
		for m := range item {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			op, ok := item[m].(schema)
			if !ok || (only != nil && !only.MatchString(m+" "+path)) {
				continue
			}
			method := strings.ToUpper(m)
			ops++
			tokens := []string{"", admin, cust}
			if op["x-admin"] == true {
				tokens = []string{"", cust, admin}
			}
			var pathParams, queryParams []string
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := p.(schema)
				switch pm["in"] {
				case "path":
					pathParams = append(pathParams, pm["name"].(string))
				case "query":
					queryParams = append(queryParams, pm["name"].(string))
				}
			}
			concrete := path
			for _, p := range pathParams {
				v := ids[p]
				if v == "" {
					v = ids["id"]
				}
				if p == "gateway" {
					v = "test"
				}
				concrete = strings.ReplaceAll(concrete, "{"+p+"}", v)
			}
			var probes []probe
			// Path parameters: garbage ids, one parameter at a time.
			for _, p := range pathParams {
				for _, g := range garbageIDs {
					probes = append(probes, probe{method: method, path: strings.ReplaceAll(path, "{"+p+"}", g), what: "path " + p + "=" + g})
				}
			}
			var valid any
			if rb, ok := op["requestBody"].(schema); ok {
				s := rb["content"].(schema)["application/json"].(schema)["schema"].(schema)
				valid = fill(doc, s, "", ids)
				for i := range probes {
					probes[i].body = mustJSON(valid)
				}
			}
			// Query parameters: each hostile value in each parameter.
			for _, q := range queryParams {
				for what, v := range badQuery {
					probes = append(probes, probe{method: method, path: concrete + "?" + url.QueryEscape(q) + "=" + v, what: "query " + q + " " + what})
				}
			}
			probes = append(probes,
				probe{method: method, path: concrete + "?%00=1", what: "NUL query name"},
				probe{method: method, path: concrete + "?x=%00", what: "NUL unknown query"})
			if valid != nil {
				for i := len(probes) - 2; i < len(probes); i++ {
					probes[i].body = mustJSON(valid)
				}
				for i := range probes {
					if probes[i].body == nil && strings.Contains(probes[i].what, "query") {
						probes[i].body = mustJSON(valid)
					}
				}
				probes = append(probes,
					probe{method: method, path: concrete, body: []byte("{\"x\":\"\xff\"}"), what: "invalid UTF-8 body"},
					probe{method: method, path: concrete, body: []byte("[]"), what: "array body"},
					probe{method: method, path: concrete, body: []byte(`"x"`), what: "string body"},
					probe{method: method, path: concrete, body: []byte(`{`), what: "truncated body"},
					probe{method: method, path: concrete, body: []byte(`null`), what: "null body"},
					probe{method: method, path: concrete, body: []byte(`{}`), what: "empty object"},
					probe{method: method, path: concrete, body: []byte(`{"` + strings.Repeat("k", 2000) + `":1}`), what: "unknown huge key"},
					probe{method: method, path: concrete, body: append(append([]byte(`{"x":"`), bytes.Repeat([]byte("z"), 1<<20-64)...), '"', '}'), what: "1 MB body"},
				)
				var ls []leaf
				leaves(valid, nil, &ls)
				for _, l := range ls {
					name := pathString(l.path)
					if len(l.path) == 0 {
						continue
					}
					mut := func(what string, v any) {
						probes = append(probes, probe{method: method, path: concrete, body: mustJSON(with(valid, l.path, v)), what: name + " " + what})
					}
					switch l.typ {
					case "string":
						probes = append(probes,
							probe{method: method, path: concrete, body: rawNUL(with(valid, l.path, "a@@NUL@@b")), what: name + " NUL"},
							probe{method: method, path: concrete, body: rawBadUTF8(with(valid, l.path, "a@@BAD@@b")), what: name + " invalid UTF-8"})
						mut("100k chars", huge)
						mut("number", 1)
						mut("object", map[string]any{})
						mut("array", []any{"x"})
						mut("null", nil)
						mut("empty", "")
					case "number":
						probes = append(probes, probe{method: method, path: concrete, body: bytes.Replace(mustJSON(with(valid, l.path, 424242.5)), []byte("424242.5"), []byte("1e300"), 1), what: name + " 1e300"})
						mut("-1", -1)
						mut("0", 0)
						mut("2^63", 9223372036854775807)
						mut("fraction", 1.5)
						mut("string", "1")
						mut("object", map[string]any{})
					case "boolean":
						mut("string", "true")
						mut("number", 1)
					case "object":
						mut("array", []any{})
						mut("string", "x")
					case "array":
						mut("object", map[string]any{})
						mut("string", "x")
						big := make([]any, 1000)
						for i := range big {
							big[i] = "x"
						}
						mut("1000 items", big)
					}
				}
			}
			// The full set runs with the most privileged token the route
			// serves; the others get every fifth probe (their answers are
			// mostly 401/403 before any input is read).
			full := tokens[len(tokens)-1]
			for _, tok := range tokens {
				for i, p := range probes {
					if tok != full && i%5 != 0 && !strings.Contains(p.what, "query") {
						continue
					}
					if method == "GET" && (strings.HasSuffix(path, "/stream") || strings.HasSuffix(path, "/ws")) && tok != "" && !strings.Contains(p.what, "query") && !strings.HasPrefix(p.what, "NUL") {
						continue // a valid stream never ends
					}
					h.do(p, tok)
				}
			}
		}
	}
	if ops < 40 && only == nil {
		t.Fatalf("only %d operations in /openapi.json", ops)
	}
	t.Logf("%d operations, %d requests, %d checksums in %v: %d 5xx, %d rejected requests that wrote", ops, h.sent, h.sums, time.Since(start).Round(time.Millisecond), h.fivexx, h.written)
}

// The gateway honours ?access_token= on exactly the routes the contexts
// do: those documenting an access_token query parameter.
func TestQueryTokenPathsMatchTheRoutes(t *testing.T) {
	e := servertest.Start(t, nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(e.Do("GET", "/openapi.json", nil, "").Body, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for path, item := range doc.Paths {
		for _, op := range item {
			for _, p := range op.Parameters {
				if p.In == "query" && p.Name == "access_token" {
					got = append(got, path)
				}
			}
		}
	}
	sort.Strings(got)
	want := append([]string{}, server.QueryTokenPaths...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("routes taking ?access_token=: %v; the gateway's list: %v", got, want)
	}
}
