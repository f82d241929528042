package httpx_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

type inner struct {
	Line1 string `json:"line1" validate:"max=10"`
}

type body struct {
	Name  string            `json:"name" validate:"max=20"`
	Tags  []string          `json:"tags"`
	Attrs map[string]any    `json:"attributes"`
	Addr  *inner            `json:"address"`
	Items []inner           `json:"items"`
	Meta  map[string]string `json:"meta"`
	Count *int              `json:"count" validate:"omitempty,gt=0,max=100000000000"`
}

func bind(t *testing.T, raw []byte) (int, map[string]any) {
	t.Helper()
	app := newApp()
	app.Post("/bind", func(c *fiber.Ctx) error {
		var b body
		if err := httpx.Bind(c, &b); err != nil {
			return err
		}
		return c.JSON(b)
	})
	req := httptest.NewRequest("POST", "/bind", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func firstField(m map[string]any) string {
	list, _ := m["errors"].([]any)
	if len(list) == 0 {
		return ""
	}
	f, _ := list[0].(map[string]any)["field"].(string)
	return f
}

// NUL anywhere in a decoded string is refused, naming the field.
func TestBindRejectsNULNamingTheField(t *testing.T) {
	for raw, field := range map[string]string{
		`{"name":"a\u0000b"}`:                          "name",
		`{"tags":["ok","\u0000"]}`:                     "tags[1]",
		`{"attributes":{"color":{"x":["\u0000"]}}}`:    "attributes.color.x[0]",
		`{"attributes":{"a\u0000":1}}`:                 "attributes.(key)",
		`{"address":{"line1":"\u0000"}}`:               "address.line1",
		`{"items":[{"line1":"x"},{"line1":"\u0000"}]}`: "items[1].line1",
		`{"meta":{"k":"v\u0000"}}`:                     "meta.k",
	} {
		status, m := bind(t, []byte(raw))
		if status != 400 || m["code"] != "invalid_characters" || firstField(m) != field {
			t.Errorf("%s: %d %v (want field %s)", raw, status, m, field)
		}
	}
	// An escaped backslash followed by u0000 is the text `\u0000`, not NUL.
	status, m := bind(t, []byte(`{"name":"\\u0000"}`))
	if status != 200 || m["name"] != `\u0000` {
		t.Fatalf("escaped backslash: %d %v", status, m)
	}
}

// Bytes that are not UTF-8 are malformed JSON, never stored as U+FFFD.
func TestBindRejectsInvalidUTF8(t *testing.T) {
	for _, raw := range [][]byte{
		[]byte("{\"name\":\"a\xffb\"}"),
		[]byte("{\"name\":\"\xc3\"}"),
		[]byte("{\"na\xe2\x82me\":\"x\"}"),
		[]byte("{\"name\":\"\xed\xa0\x80\"}"), // a UTF-16 surrogate encoded in UTF-8
	} {
		status, m := bind(t, raw)
		if status != 400 || m["code"] != "malformed_json" {
			t.Errorf("%q: %d %v", raw, status, m)
		}
	}
}

// Hostile shapes are 4xx problems, never 5xx.
func TestBindHostileShapes(t *testing.T) {
	huge := `{"name":"` + strings.Repeat("x", 100_000) + `"}`
	for raw, want := range map[string]int{
		`{"count":1e300}`:        400,
		`{"count":-1}`:           422,
		`{"count":0}`:            422,
		`{"count":100000000001}`: 422,
		`{"count":"1"}`:          400,
		`{"name":{}}`:            400,
		`{"name":[]}`:            400,
		`[]`:                     400,
		`"x"`:                    400,
		`null`:                   200,
		`{"name":"x"} {}`:        400,
		`{"nope":1}`:             422,
		huge:                     422,
		``:                       400,
		` `:                      400,
		`{"name":"\ud800"}`:      200, // a lone escaped surrogate decodes to U+FFFD like encoding/json
	} {
		if status, m := bind(t, []byte(raw)); status != want {
			t.Errorf("%.60s: %d %v, want %d", raw, status, m, want)
		}
	}
}

func TestDecodeJSONLenientAllowsUnknownFields(t *testing.T) {
	var v struct {
		Type string `json:"type"`
	}
	if err := httpx.DecodeJSON([]byte(`{"type":"x","extra":1}`), &v, false); err != nil || v.Type != "x" {
		t.Fatalf("lenient: %v %+v", err, v)
	}
	err := httpx.DecodeJSON([]byte(`{"type":"\u0000"}`), &v, false)
	if e, ok := errs.As(err); !ok || e.Code != "invalid_characters" {
		t.Fatalf("NUL: %v", err)
	}
}

// Query parameters (names and values) and paths with NUL or invalid UTF-8
// are answered 400 invalid_characters before any handler runs.
func TestQueryAndPathCharacters(t *testing.T) {
	app := newApp()
	app.Get("/q/:id", func(c *fiber.Ctx) error { return c.SendString("ok") })
	for path, want := range map[string]int{
		"/q/1?category=shoes":      200,
		"/q/1?category=%C3%A9":     200,
		"/q/1?category=a%00b":      400,
		"/q/1?category=%FF":        400,
		"/q/1?ca%00t=x":            400,
		"/q/1?%FF=x":               400,
		"/q/%00":                   400,
		"/q/%FF%FE":                400,
		"/q/1?x=%ED%A0%80":         400, // surrogate
		"/q/1?q=%E2%82":            400, // truncated sequence
		"/unknown?category=a%00b":  400,
		"/q/1?access_token=a%00b":  400,
		"/q/1?limit=1&cursor=%00x": 400,
	} {
		res, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode != want || (want == 400 && m["code"] != "invalid_characters") {
			t.Errorf("%s: %d %v, want %d", path, res.StatusCode, m, want)
		}
	}
}

type msgs struct {
	Amount int64 `json:"amount" validate:"gt=0,max=100000000000"`
	Qty    *int  `json:"quantity" validate:"required,gte=1,lte=999"`
	Zero   int   `json:"zero" validate:"required"`
	Value  int64 `json:"value" validate:"required,gt=0,max=100000000000"`
	Nested *struct {
		Qty int `json:"qty" validate:"required,gte=1,lte=99"`
	} `json:"nested"`
	Less     int      `json:"less" validate:"lt=5"`
	Items    []string `json:"items" validate:"min=1,max=2,dive,max=3"`
	URL      string   `json:"url" validate:"omitempty,url"`
	HTTPURL  string   `json:"http_url" validate:"omitempty,http_url"`
	Phone    string   `json:"phone" validate:"omitempty,e164"`
	ID       string   `json:"id" validate:"omitempty,uuid"`
	Country  string   `json:"country" validate:"omitempty,iso3166_1_alpha2"`
	Currency string   `json:"currency" validate:"omitempty,iso4217"`
	Min      int      `json:"min_weight"`
	Max      int      `json:"max_weight" validate:"gtfield=Min"`
	A        string   `json:"a"`
	B        string   `json:"b" validate:"required_with=A"`
	Name     string   `json:"name" validate:"min=2"`
}

// Every failed rule reads as a sentence: never "is invalid (tag)", never
// "is required" for a zero that was sent.
func TestValidationMessagesAreReadable(t *testing.T) {
	five := 1000
	v := msgs{Nested: &struct {
		Qty int `json:"qty" validate:"required,gte=1,lte=99"`
	}{}, Amount: 100000000001, Qty: &five, Less: 5, Items: []string{"a", "toolong"}, URL: "no", HTTPURL: "ftp://x",
		Phone: "123", ID: "x", Country: "XX", Currency: "ABC", Min: 5, Max: 5, A: "x", Name: "a"}
	err := httpx.Check(v)
	e, ok := errs.As(err)
	if !ok {
		t.Fatalf("%v", err)
	}
	got := map[string]string{}
	for _, f := range e.Fields {
		got[f.Field] = f.Message
	}
	want := map[string]string{
		"amount":     "must be at most 100000000000",
		"quantity":   "must be at most 999",
		"zero":       "is required and must not be 0",
		"value":      "must be greater than 0",
		"nested.qty": "must be at least 1",
		"less":       "must be less than 5",
		"items[1]":   "must be at most 3 characters",
		"url":        "must be a URL",
		"http_url":   "must be an http or https URL",
		"phone":      "must be a phone number in E.164 form (+4915112345678)",
		"id":         "must be a UUID",
		"country":    "must be an ISO 3166-1 alpha-2 country code",
		"currency":   "must be an ISO 4217 currency code",
		"max_weight": "must be greater than min_weight",
		"b":          "is required when a is given",
		"name":       "must be at least 2 characters",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	for k, m := range got {
		if strings.Contains(m, "(") && !strings.Contains(m, "E.164") || strings.Contains(m, "invalid") {
			t.Errorf("%s: unreadable %q", k, m)
		}
	}
	v = msgs{Amount: 0, Items: []string{"a", "b", "c"}, Max: 1}
	e, _ = errs.As(httpx.Check(v))
	if len(e.Fields) == 0 || e.Fields[len(e.Fields)-1].Field != "name" {
		t.Fatalf("%v", e.Fields)
	}
	for _, f := range e.Fields {
		if f.Field == "items" && f.Message != "must have at most 2 items" {
			t.Errorf("items: %q", f.Message)
		}
	}
	v = msgs{Amount: 0, Items: nil, Max: 1}
	e, _ = errs.As(httpx.Check(v))
	got = map[string]string{}
	for _, f := range e.Fields {
		got[f.Field] = f.Message
	}
	if got["amount"] != "must be greater than 0" || got["items"] == "" || got["items"] != "must have at least 1 item" || got["quantity"] != "is required" {
		t.Errorf("zero values: %v", got)
	}
	if httpx.Check(msgs{Amount: 1, Qty: new(int), Items: []string{"a"}, Max: 1, Zero: 1, Value: 1, Name: "ab"}) == nil {
		t.Error("quantity 0 accepted")
	}
}

// ?access_token= authenticates only on routes that document it (the
// streaming ones); elsewhere only the Authorization header counts.
func TestQueryTokenOnlyOnStreamingRoutes(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := authn.NewKeys(key)
	tok, _, err := keys.Issue(authn.Principal{UserID: "u1", Role: "customer"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	auth := httpx.NewAuth(keys.Verifier())
	app := newApp()
	app.Use(auth.Identify)
	rt := httpx.NewRouter(app, &openapi.Registry{}, auth)
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	rt.Handle(openapi.Op{Method: "GET", Path: "/stream", Auth: true, Query: []string{"access_token"}}, ok)
	rt.Handle(openapi.Op{Method: "GET", Path: "/me", Auth: true}, ok)
	for _, c := range []struct {
		path, header string
		want         int
	}{
		{"/stream?access_token=" + tok, "", 200},
		{"/stream", "Bearer " + tok, 200},
		{"/stream", "", 401},
		{"/me?access_token=" + tok, "", 401},
		{"/me", "Bearer " + tok, 200},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		res, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != c.want {
			t.Errorf("%.30s header=%t: %d, want %d", c.path, c.header != "", res.StatusCode, c.want)
		}
	}
}
