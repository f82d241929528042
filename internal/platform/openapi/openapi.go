// Package openapi builds the OpenAPI 3.1 document from the routes as they
// are registered, so the document cannot drift from the code: a route that
// is served but not documented fails a test, and the acceptance suite
// validates every response it receives against the document.
//
// Schemas are derived from the Go types by reflection (see SchemaOf). A DTO
// refines what reflection cannot know:
//
//   - json.RawMessage fields hold JSON whose Go type reflection cannot see:
//     the struct declares it by implementing RawTyper (field name → zero
//     value of the Go type the raw JSON holds). An undeclared raw field is
//     documented as "any JSON" and reported by Registry.Undeclared.
//   - enum:"a,b,c" on a field lists its values (responses and requests);
//     validate:"oneof=a b c" on request fields does the same.
//   - openapi:"nullable" allows null where the Go type does not say so
//     (a nil slice or map); openapi:"format=uri" sets a string format.
//   - A named type may implement Schemer to replace its schema entirely.
//
// Response objects derived from structs are strict (additionalProperties:
// false) and list every field without omitempty as required: the document
// promises exactly what the server sends. Maps stay open.
package openapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Op documents one route. Path uses OpenAPI syntax: /products/{id}.
type Op struct {
	Method   string
	Path     string
	Summary  string
	Tag      string
	Auth     bool // bearer token required
	Admin    bool // admin role required
	Request  any  // zero value of the JSON body type, or nil
	Response any  // zero value of the JSON response type, or nil
	Status   int  // success status, default 200
	// Errors lists the problem+json statuses beyond those every operation
	// may answer (400, 429, 431; 503 under /api/) and those implied by
	// Auth (401), Admin (401, 403) and Request (413, 422).
	Errors []int
	// Responses documents further statuses answered with a JSON body that
	// is not a problem (e.g. /readyz's 503): status → zero value of the body.
	Responses map[int]any
	// Query lists query parameter names; "limit" and "cursor" get their
	// shared schemas (see Params for others with a type).
	Query []string
	// Params are typed parameters (query or header), see QueryParam and
	// HeaderParam.
	Params []Param
	// Produces overrides the success media type (e.g. text/event-stream).
	Produces string
	// LooseRequest says the handler reads the body without strict binding
	// (a provider webhook): the request schema then allows other fields.
	LooseRequest bool
}

// Param is a typed query or header parameter.
type Param struct {
	Name        string
	In          string // query or header
	Description string
	Required    bool
	Schema      map[string]any
}

// QueryParam documents a query parameter with a schema.
func QueryParam(name, description string, schema map[string]any) Param {
	return Param{Name: name, In: "query", Description: description, Schema: schema}
}

// HeaderParam documents a request header.
func HeaderParam(name, description string, required bool) Param {
	return Param{Name: name, In: "header", Description: description, Required: required, Schema: map[string]any{"type": "string"}}
}

// Limit is the schema of a page size parameter from 1 to max (default def),
// for routes that do not use the shared 1..100 of "limit".
func Limit(max, def int) Param {
	return QueryParam("limit", "page size", map[string]any{"type": "integer", "minimum": 1, "maximum": max, "default": def})
}

// Enum is a string schema limited to values, for query parameters.
func Enum(values ...string) map[string]any {
	return map[string]any{"type": "string", "enum": values}
}

// RawTyper is implemented by DTOs with json.RawMessage fields, so the
// document shows what the raw JSON really is: it maps a JSON field name to
// a zero value of the Go type that field holds (e.g. "items":
// []cartapi.Item{}). Implement it on the value receiver.
type RawTyper interface {
	OpenAPIRawTypes() map[string]any
}

// Schemer is implemented by a named type whose JSON reflection cannot
// derive (custom MarshalJSON): it returns the type's whole schema.
type Schemer interface {
	OpenAPISchema() map[string]any
}

// Registry collects operations in registration order.
type Registry struct {
	mu  sync.Mutex
	ops []Op
}

// Add records an operation.
func (r *Registry) Add(op Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
}

// Has reports whether method+path (OpenAPI syntax) is documented.
func (r *Registry) Has(method, path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, op := range r.ops {
		if op.Method == method && op.Path == path {
			return true
		}
	}
	return false
}

// Undeclared lists the json.RawMessage fields of documented types that
// declare no schema (see RawTyper), as "Type.field": a test keeps it empty.
func (r *Registry) Undeclared() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := newBuilder()
	for _, op := range r.ops {
		op.render(b)
	}
	return b.undeclared()
}

// Document renders the OpenAPI 3.1 document.
func (r *Registry) Document(title, version string) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := newBuilder()
	b.component(reflect.TypeOf(Problem{}), "Problem")
	paths := map[string]map[string]any{}
	for _, op := range r.ops {
		item := paths[op.Path]
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		item[strings.ToLower(op.Method)] = op.render(b)
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": title, "version": version},
		// Relative: the document is served by the API it describes.
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
					"description": "access token from POST /api/v1/auth/login; operations marked x-admin need the admin role"},
				"accessTokenQuery": map[string]any{"type": "apiKey", "in": "query", "name": "access_token",
					"description": "the access token as a query parameter, for EventSource and WebSocket clients that cannot set headers"},
			},
			"schemas": b.schemas,
		},
	}
}

// Problem mirrors the RFC 9457 body (httpx.Problem) for documentation.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Code   string       `json:"code"`
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError mirrors errs.FieldError: one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ProblemMedia is the media type of every error body.
const ProblemMedia = "application/problem+json"

func (op Op) render(b *builder) map[string]any {
	o := map[string]any{"summary": op.Summary, "operationId": operationID(op)}
	if op.Tag != "" {
		o["tags"] = []string{op.Tag}
	}
	var params []any
	for _, seg := range strings.Split(op.Path, "/") {
		if strings.HasPrefix(seg, "{") {
			params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
	}
	byName := map[string]bool{}
	for _, p := range op.Params {
		byName[p.In+" "+p.Name] = true
	}
	for _, q := range op.Query {
		if byName["query "+q] {
			continue
		}
		params = append(params, sharedQuery(q))
	}
	for _, p := range op.Params {
		m := map[string]any{"name": p.Name, "in": p.In, "schema": p.Schema}
		if p.Description != "" {
			m["description"] = p.Description
		}
		if p.Required {
			m["required"] = true
		}
		params = append(params, m)
	}
	if op.Method == "POST" {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string", "maxLength": 255},
			"description": "same key and body within 24h replays the first response; another body is 409"})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Auth || op.Admin {
		sec := []any{map[string]any{"bearer": []string{}}}
		if contains(op.Query, "access_token") {
			sec = append(sec, map[string]any{"accessTokenQuery": []string{}})
		}
		o["security"] = sec
	}
	if op.Admin {
		o["x-admin"] = true
		o["description"] = "Admin only: a token without the admin role is answered 403."
	}
	if op.Request != nil {
		s := b.schema(reflect.TypeOf(op.Request), request)
		if op.LooseRequest {
			s = loosen(s)
		}
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": s}}}
	}
	status := op.Status
	if status == 0 {
		status = 200
	}
	ok := map[string]any{"description": httpText(status)}
	if op.Response != nil {
		media := op.Produces
		if media == "" {
			media = "application/json"
		}
		ok["content"] = map[string]any{media: map[string]any{"schema": b.schema(reflect.TypeOf(op.Response), response)}}
	}
	responses := map[string]any{itoa(status): ok}
	for code, body := range op.Responses {
		responses[itoa(code)] = map[string]any{"description": httpText(code),
			"content": map[string]any{"application/json": map[string]any{"schema": b.schema(reflect.TypeOf(body), response)}}}
	}
	problem := map[string]any{ProblemMedia: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}
	// 400: any request may be malformed (a query parameter with NUL or
	// invalid UTF-8 is refused before the handler); 429: rate limits apply
	// to every route; 431: a request line or headers beyond the server's
	// read buffer; 503: an API route needs a database, a broker or (split
	// deployment) another service that is unreachable.
	errs := append([]int{400, 429, 431}, op.Errors...)
	if strings.HasPrefix(op.Path, "/api/") {
		errs = append(errs, 503)
		if !op.Auth && !op.Admin {
			// The edge of a split deployment refuses a bearer token that
			// does not verify on every route; the single binary ignores it
			// on public ones.
			responses["401"] = map[string]any{"description": "a bearer token was sent and does not verify (split deployment edge)", "content": problem}
		}
	}
	if op.Request != nil {
		errs = append(errs, 413, 422)
	}
	if op.validatesQuery() {
		errs = append(errs, 422)
	}
	if op.Auth || op.Admin {
		errs = append(errs, 401)
	}
	if op.Admin {
		errs = append(errs, 403)
	}
	sort.Ints(errs)
	for _, e := range errs {
		if _, done := responses[itoa(e)]; done {
			continue
		}
		if e == 304 {
			responses["304"] = map[string]any{"description": httpText(e)}
			continue
		}
		responses[itoa(e)] = map[string]any{"description": httpText(e), "content": problem}
	}
	o["responses"] = responses
	return o
}

// validatesQuery reports whether the route checks query values (a page
// size, a typed parameter) and so may answer 422 for them.
func (op Op) validatesQuery() bool {
	if contains(op.Query, "limit") {
		return true
	}
	for _, p := range op.Params {
		if p.In == "query" {
			return true
		}
	}
	return false
}

// sharedQuery documents the query parameters whose meaning is the same on
// every route (the page envelope of API.md), and plain strings otherwise.
func sharedQuery(name string) map[string]any {
	switch name {
	case "limit":
		return map[string]any{"name": name, "in": "query", "description": "page size",
			"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}
	case "cursor":
		return map[string]any{"name": name, "in": "query", "description": "next_cursor of the previous page (opaque)",
			"schema": map[string]any{"type": "string"}}
	case "access_token":
		return map[string]any{"name": name, "in": "query", "description": "access token, for clients that cannot send the Authorization header",
			"schema": map[string]any{"type": "string"}}
	}
	return map[string]any{"name": name, "in": "query", "schema": map[string]any{"type": "string"}}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// loosen lets an inline object schema carry fields it does not list.
func loosen(s map[string]any) map[string]any {
	if s["additionalProperties"] == false {
		s["additionalProperties"] = true
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for k, p := range props {
			if m, ok := p.(map[string]any); ok {
				props[k] = loosen(m)
			}
		}
	}
	return s
}

func operationID(op Op) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.Method))
	for _, seg := range strings.Split(op.Path, "/") {
		seg = strings.Trim(seg, "{}.")
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func httpText(code int) string {
	switch code {
	case 200, 201:
		return "success"
	case 202:
		return "accepted"
	case 204:
		return "success, no content"
	case 304:
		return "not modified (If-None-Match matched the ETag)"
	case 400:
		return "malformed request"
	case 401:
		return "missing or invalid credentials"
	case 403:
		return "not allowed"
	case 404:
		return "not found"
	case 409:
		return "conflict"
	case 413:
		return "body too large"
	case 422:
		return "validation failed"
	case 429:
		return "rate limited (see Retry-After)"
	case 431:
		return "request line or headers too large"
	case 503:
		return "a dependency is unavailable; retry later"
	}
	if t := http.StatusText(code); t != "" {
		return strings.ToLower(t)
	}
	return "error"
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

// direction says whether a schema describes what clients send or what the
// server answers: they differ in which fields are required.
type direction int

const (
	response direction = iota
	request
)

// SchemaOf derives the response JSON Schema of a Go value's type, with
// every named struct inlined; `validate:"required"` is ignored (responses
// list every field without omitempty as required). RequestSchemaOf is the
// request counterpart.
func SchemaOf(v any) map[string]any {
	b := newBuilder()
	b.inline = true
	return b.schema(reflect.TypeOf(v), response)
}

// RequestSchemaOf derives the request JSON Schema of a Go value's type:
// `validate:"required"` marks required properties and validate's oneof,
// min, max, len, gt, gte, lt, lte, email and uuid become keywords.
func RequestSchemaOf(v any) map[string]any {
	b := newBuilder()
	b.inline = true
	return b.schema(reflect.TypeOf(v), request)
}

// builder derives schemas and collects named response types as reusable
// components.
type builder struct {
	schemas map[string]any
	names   map[reflect.Type]string
	taken   map[string]reflect.Type
	missing map[string]bool
	inline  bool
	depth   int
}

func newBuilder() *builder {
	return &builder{schemas: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}, missing: map[string]bool{}}
}

func (b *builder) undeclared() []string {
	out := make([]string, 0, len(b.missing))
	for k := range b.missing {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// componentName names a type by its bounded context and Go name
// (ordering.Order, catalog.Product; platform packages by package name),
// so every process of a split deployment names it alike.
func componentName(t reflect.Type) string {
	pkg := t.PkgPath()
	ctx := pkg[strings.LastIndex(pkg, "/")+1:]
	if _, rest, ok := strings.Cut(pkg, "/internal/"); ok {
		parts := strings.Split(rest, "/")
		ctx = parts[0]
		if ctx == "platform" && len(parts) > 1 {
			ctx = parts[1]
		}
	}
	return ctx + "." + t.Name()
}

// component returns a $ref to t's schema, building it under name once.
func (b *builder) component(t reflect.Type, name string) map[string]any {
	if n, ok := b.names[t]; ok {
		return map[string]any{"$ref": "#/components/schemas/" + n}
	}
	if prev, ok := b.taken[name]; ok && prev != t {
		name = strings.ReplaceAll(t.PkgPath(), "/", "_") + "." + t.Name()
	}
	b.names[t] = name
	b.taken[name] = t
	b.schemas[name] = map[string]any{} // placeholder against recursion
	b.schemas[name] = b.object(t, response)
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func (b *builder) schema(t reflect.Type, dir direction) map[string]any {
	if b.depth > 12 {
		return map[string]any{}
	}
	b.depth++
	defer func() { b.depth-- }()
	if t.Implements(reflect.TypeOf((*Schemer)(nil)).Elem()) {
		if t.Kind() != reflect.Pointer || !reflect.Zero(t).IsNil() {
			return reflect.Zero(t).Interface().(Schemer).OpenAPISchema()
		}
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"description": "any JSON"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(b.schema(t.Elem(), dir))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": b.schema(t.Elem(), dir)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": b.schema(t.Elem(), dir)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if dir == response && !b.inline && t.Name() != "" && !strings.Contains(t.Name(), "[") {
			return b.component(t, componentName(t))
		}
		return b.object(t, dir)
	}
	return map[string]any{}
}

// object derives a struct's object schema: strict, with its required list.
func (b *builder) object(t reflect.Type, dir direction) map[string]any {
	props := map[string]any{}
	var required []string
	b.fields(t, dir, props, &required)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		s["required"] = required
	}
	return s
}

func (b *builder) fields(t reflect.Type, dir direction, props map[string]any, required *[]string) {
	var raw map[string]any
	if rt, ok := reflect.Zero(t).Interface().(RawTyper); ok {
		raw = rt.OpenAPIRawTypes()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				b.fields(et, dir, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omitempty := hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
		var s map[string]any
		if v, ok := raw[name]; ok {
			s = b.schema(reflect.TypeOf(v), dir)
		} else {
			if f.Type == rawType || (f.Type.Kind() == reflect.Slice && f.Type.Elem() == rawType) {
				b.missing[t.Name()+"."+name] = true
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer && omitempty && dir == response {
				ft = ft.Elem() // a nil pointer is omitted, never null
			}
			s = b.schema(ft, dir)
		}
		if hasOpt(opts, "string") {
			s = map[string]any{"type": "string"}
		}
		validate := f.Tag.Get("validate")
		if before, _, ok := strings.Cut(validate, ",dive"); ok {
			validate = before
		}
		if dir == request {
			s = constrain(s, validate)
		}
		if enum := f.Tag.Get("enum"); enum != "" {
			s = withEnum(s, strings.Split(enum, ","))
		}
		for _, o := range strings.Split(f.Tag.Get("openapi"), ",") {
			switch {
			case o == "nullable":
				s = nullable(s)
			case strings.HasPrefix(o, "format="):
				s = clone(s)
				s["format"] = strings.TrimPrefix(o, "format=")
			}
		}
		props[name] = s
		switch dir {
		case response:
			if !omitempty {
				*required = append(*required, name)
			}
		case request:
			if hasRule(validate, "required") && !omitempty {
				*required = append(*required, name)
			}
		}
	}
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

func hasRule(validate, rule string) bool {
	for _, r := range strings.Split(validate, ",") {
		if r == rule || strings.HasPrefix(r, rule+"=") {
			return true
		}
	}
	return false
}

// constrain turns a request field's validate rules into keywords. Rules
// under omitempty only apply to non-empty values, so bounds are then left
// out rather than documented wrongly.
func constrain(s map[string]any, validate string) map[string]any {
	if validate == "" {
		return s
	}
	optional := hasRule(validate, "omitempty")
	typ := baseType(s)
	for _, r := range strings.Split(validate, ",") {
		rule, arg, _ := strings.Cut(r, "=")
		switch rule {
		case "oneof":
			s = withEnum(s, strings.Fields(arg))
		case "email":
			s = clone(s)
			s["format"] = "email"
		case "uuid", "uuid4":
			s = clone(s)
			s["format"] = "uuid"
		case "url", "http_url":
			s = clone(s)
			s["format"] = "uri"
		case "gt", "lt":
			if optional || (typ != "integer" && typ != "number") {
				continue
			}
			n, err := strconv.Atoi(arg)
			if err != nil {
				continue
			}
			s = clone(s)
			s[map[string]string{"gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}[rule]] = n
		case "min", "max", "len", "gte", "lte":
			if optional {
				continue
			}
			n, err := strconv.Atoi(arg)
			if err != nil {
				continue
			}
			s = clone(s)
			var kws []string
			switch typ {
			case "string":
				kws = map[string][]string{"min": {"minLength"}, "gte": {"minLength"}, "max": {"maxLength"}, "lte": {"maxLength"}, "len": {"minLength", "maxLength"}}[rule]
			case "array":
				kws = map[string][]string{"min": {"minItems"}, "gte": {"minItems"}, "max": {"maxItems"}, "lte": {"maxItems"}, "len": {"minItems", "maxItems"}}[rule]
			case "integer", "number":
				kws = map[string][]string{"min": {"minimum"}, "gte": {"minimum"}, "max": {"maximum"}, "lte": {"maximum"}, "len": {"minimum", "maximum"}}[rule]
			}
			for _, k := range kws {
				s[k] = n
			}
		}
	}
	return s
}

// baseType is the non-null type of a schema ("" when it has none).
func baseType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []string:
		for _, x := range t {
			if x != "null" {
				return x
			}
		}
	}
	return ""
}

// withEnum limits a string schema (or an array's items) to values; a
// nullable schema keeps null among them.
func withEnum(s map[string]any, values []string) map[string]any {
	s = clone(s)
	if baseType(s) == "array" {
		if items, ok := s["items"].(map[string]any); ok {
			s["items"] = withEnum(items, values)
			return s
		}
	}
	enum := make([]any, 0, len(values)+1)
	for _, v := range values {
		enum = append(enum, strings.TrimSpace(v))
	}
	if t, ok := s["type"].([]string); ok && contains(t, "null") {
		enum = append(enum, nil)
	}
	s["enum"] = enum
	return s
}

// nullable lets a schema also accept null.
func nullable(s map[string]any) map[string]any {
	if len(s) == 0 || (len(s) == 1 && s["description"] != nil) {
		return s // any JSON already
	}
	if ref, ok := s["$ref"]; ok {
		return map[string]any{"anyOf": []any{map[string]any{"$ref": ref}, map[string]any{"type": "null"}}}
	}
	if _, ok := s["anyOf"]; ok {
		return s
	}
	s = clone(s)
	switch t := s["type"].(type) {
	case string:
		s["type"] = []string{t, "null"}
	case []string:
		if !contains(t, "null") {
			s["type"] = append(append([]string{}, t...), "null")
		}
	}
	if e, ok := s["enum"].([]any); ok {
		hasNil := false
		for _, v := range e {
			hasNil = hasNil || v == nil
		}
		if !hasNil {
			s["enum"] = append(append([]any{}, e...), nil)
		}
	}
	return s
}

func clone(s map[string]any) map[string]any {
	c := make(map[string]any, len(s)+1)
	for k, v := range s {
		c[k] = v
	}
	return c
}
