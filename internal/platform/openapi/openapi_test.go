package openapi_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/internal/platform/openapi/openapitest"
)

type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type order struct {
	ID       string            `json:"id"`
	Status   string            `json:"status" enum:"pending,paid"`
	Items    json.RawMessage   `json:"items"`
	Extra    json.RawMessage   `json:"extra,omitempty"`
	Hits     []json.RawMessage `json:"hits"`
	Note     *string           `json:"note"`
	Shipped  *time.Time        `json:"shipped,omitempty"`
	Attrs    map[string]any    `json:"attrs"`
	Tags     []string          `json:"tags" openapi:"nullable"`
	Flags    []string          `json:"flags" enum:"a,b"`
	Secret   string            `json:"-"`
	internal int
}

func (order) OpenAPIRawTypes() map[string]any {
	return map[string]any{"items": []line{}, "hits": []line{}}
}

type input struct {
	Courier string `json:"courier" validate:"required,oneof=standard express"`
	Email   string `json:"email" validate:"required,email"`
	Name    string `json:"name" validate:"omitempty,min=2"`
	Qty     int    `json:"qty" validate:"gte=1,lte=99"`
	Amount  int64  `json:"amount" validate:"gt=0"`
}

func prop(t *testing.T, s map[string]any, name string) map[string]any {
	t.Helper()
	p, ok := s["properties"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("no property %q in %v", name, s)
	}
	return p
}

// A raw JSON field is documented as the Go type the DTO declares for it,
// never as base64 bytes.
func TestRawMessageTakesTheDeclaredType(t *testing.T) {
	s := openapi.SchemaOf(order{})
	items := prop(t, s, "items")
	if items["type"] != "array" {
		t.Fatalf("items: %v", items)
	}
	el := items["items"].(map[string]any)
	if el["type"] != "object" || el["additionalProperties"] != false || prop(t, el, "sku")["type"] != "string" {
		t.Fatalf("items element: %v", el)
	}
	if hits := prop(t, s, "hits"); hits["type"] != "array" {
		t.Fatalf("hits: %v", hits)
	}
	if extra := prop(t, s, "extra"); extra["contentEncoding"] != nil || extra["type"] != nil {
		t.Fatalf("undeclared raw must be any JSON, got %v", extra)
	}
	var r openapi.Registry
	r.Add(openapi.Op{Method: "GET", Path: "/orders", Response: order{}})
	if got := r.Undeclared(); !reflect.DeepEqual(got, []string{"order.extra"}) {
		t.Fatalf("undeclared: %v", got)
	}
}

func TestEnumsFromTagsAndOneof(t *testing.T) {
	s := openapi.SchemaOf(order{})
	if got := prop(t, s, "status")["enum"]; !reflect.DeepEqual(got, []any{"pending", "paid"}) {
		t.Fatalf("status enum: %v", got)
	}
	if got := prop(t, s, "flags")["items"].(map[string]any)["enum"]; !reflect.DeepEqual(got, []any{"a", "b"}) {
		t.Fatalf("flags enum: %v", got)
	}
	in := openapi.RequestSchemaOf(input{})
	if got := prop(t, in, "courier")["enum"]; !reflect.DeepEqual(got, []any{"standard", "express"}) {
		t.Fatalf("courier enum: %v", got)
	}
	if prop(t, in, "email")["format"] != "email" {
		t.Fatal("email format")
	}
	if q := prop(t, in, "qty"); q["minimum"] != 1 || q["maximum"] != 99 {
		t.Fatalf("qty bounds: %v", q)
	}
	if a := prop(t, in, "amount"); a["exclusiveMinimum"] != 0 {
		t.Fatalf("amount bound: %v", a)
	}
	if _, ok := prop(t, in, "name")["minLength"]; ok {
		t.Fatal("a bound under omitempty must not be documented (the empty value passes)")
	}
	if got := in["required"]; !reflect.DeepEqual(got, []string{"courier", "email"}) {
		t.Fatalf("request required: %v", got)
	}
}

// Response objects are strict and require every field that is always
// sent; maps stay open; pointers are nullable unless omitted when nil.
func TestResponseObjectsAreStrict(t *testing.T) {
	s := openapi.SchemaOf(order{})
	if s["additionalProperties"] != false {
		t.Fatal("struct objects must not allow other fields")
	}
	want := []string{"attrs", "flags", "hits", "id", "items", "note", "status", "tags"}
	if !reflect.DeepEqual(s["required"], want) {
		t.Fatalf("required %v, want %v", s["required"], want)
	}
	if attrs := prop(t, s, "attrs"); attrs["additionalProperties"] == false {
		t.Fatal("maps stay open")
	}
	if got := prop(t, s, "note")["type"]; !reflect.DeepEqual(got, []string{"string", "null"}) {
		t.Fatalf("note: %v", got)
	}
	if got := prop(t, s, "shipped"); got["type"] != "string" || got["format"] != "date-time" {
		t.Fatalf("an omitempty pointer is omitted, never null: %v", got)
	}
	if got := prop(t, s, "tags")["type"]; !reflect.DeepEqual(got, []string{"array", "null"}) {
		t.Fatalf("tags: %v", got)
	}
	for _, hidden := range []string{"Secret", "internal", "-"} {
		if _, ok := s["properties"].(map[string]any)[hidden]; ok {
			t.Fatalf("%s documented", hidden)
		}
	}
}

type admin struct {
	Role string `json:"role" enum:"admin"`
}

func registry() *openapi.Registry {
	r := &openapi.Registry{}
	r.Add(openapi.Op{Method: "GET", Path: "/api/v1/orders/{id}", Summary: "one", Tag: "orders", Auth: true, Response: order{}, Errors: []int{404}})
	r.Add(openapi.Op{Method: "GET", Path: "/api/v1/orders", Summary: "list", Tag: "orders", Auth: true, Response: []order{},
		Query: []string{"limit", "cursor"}, Params: []openapi.Param{openapi.QueryParam("status", "", openapi.Enum("pending", "paid"))}})
	r.Add(openapi.Op{Method: "POST", Path: "/api/v1/admin/things", Summary: "make", Tag: "admin", Admin: true, Request: input{}, Response: admin{}, Status: 201})
	r.Add(openapi.Op{Method: "GET", Path: "/api/v1/stream", Summary: "events", Auth: true, Produces: "text/event-stream", Response: "",
		Query: []string{"access_token"}, Params: []openapi.Param{openapi.HeaderParam("Last-Event-ID", "resume after", false)}})
	r.Add(openapi.Op{Method: "GET", Path: "/readyz", Summary: "ready", Response: admin{}, Responses: map[int]any{503: admin{}}})
	return r
}

func TestDocumentSecurityAndComponents(t *testing.T) {
	doc := registry().Document("t", "v")
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.Unmarshal(raw, &d)
	post := d["paths"].(map[string]any)["/api/v1/admin/things"].(map[string]any)["post"].(map[string]any)
	if post["x-admin"] != true || post["responses"].(map[string]any)["403"] == nil {
		t.Fatalf("admin operation not marked: %v", post)
	}
	for _, code := range []string{"400", "401", "413", "422", "429", "201"} {
		if post["responses"].(map[string]any)[code] == nil {
			t.Fatalf("%s missing", code)
		}
	}
	if _, ok := post["responses"].(map[string]any)["500"]; ok {
		t.Fatal("500 is never a documented outcome")
	}
	one := d["paths"].(map[string]any)["/api/v1/orders/{id}"].(map[string]any)["get"].(map[string]any)
	ref := one["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["$ref"]
	if ref != "#/components/schemas/openapi_test.order" {
		t.Fatalf("named types are components: %v", ref)
	}
	if !strings.Contains(string(raw), `"servers":[{"url":"/"}]`) {
		t.Fatal("servers")
	}
	ready := d["paths"].(map[string]any)["/readyz"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["503"].(map[string]any)
	if ready["content"].(map[string]any)["application/json"] == nil {
		t.Fatalf("503 with a JSON body: %v", ready)
	}
}

// The generated document is a valid OpenAPI 3.1 document (checked against
// the 3.1 meta-schema libopenapi-validator embeds).
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	raw, err := json.Marshal(registry().Document("t", "v"))
	if err != nil {
		t.Fatal(err)
	}
	openapitest.Valid31(t, raw)
}

// The meta-schema check is not vacuous: a broken document fails it.
func TestMetaSchemaCatchesABrokenDocument(t *testing.T) {
	broken := `{"openapi":"3.1.0","info":{"title":"t","version":"v"},"paths":{"/x":{"get":{"responses":{"200":{"content":"nope"}}}}}}`
	if errs := openapitest.Errors31(t, []byte(broken)); len(errs) == 0 {
		t.Fatal("a response without a description and with a string content passed")
	}
}
