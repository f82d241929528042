// Package openapi builds the OpenAPI 3.1 document from the routes as they
// are registered, so the document cannot drift from the code: a route that
// is served but not documented fails a test.
package openapi

import (
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
	Errors   []int
	// Query lists query parameter names.
	Query []string
	// Produces overrides the success media type (e.g. text/event-stream).
	Produces string
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

// Document renders the OpenAPI 3.1 document.
func (r *Registry) Document(title, version string) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	paths := map[string]map[string]any{}
	for _, op := range r.ops {
		item := paths[op.Path]
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		item[strings.ToLower(op.Method)] = op.render()
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": title, "version": version},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			"schemas":         map[string]any{"Problem": SchemaOf(Problem{})},
		},
	}
}

// Problem mirrors the RFC 9457 body for documentation.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors,omitempty"`
}

func (op Op) render() map[string]any {
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
	for _, q := range op.Query {
		params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
	}
	if op.Method == "POST" {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string"},
			"description": "same key and body within 24h replays the first response; another body is 409"})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Auth || op.Admin {
		o["security"] = []any{map[string]any{"bearer": []string{}}}
	}
	if op.Request != nil {
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": SchemaOf(op.Request)}}}
	}
	status := op.Status
	if status == 0 {
		status = 200
	}
	ok := map[string]any{"description": "success"}
	if op.Response != nil {
		media := op.Produces
		if media == "" {
			media = "application/json"
		}
		ok["content"] = map[string]any{media: map[string]any{"schema": SchemaOf(op.Response)}}
	}
	responses := map[string]any{itoa(status): ok}
	problem := map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}
	errs := append([]int{}, op.Errors...)
	if op.Request != nil {
		errs = append(errs, 400, 413, 422)
	}
	if op.Auth || op.Admin {
		errs = append(errs, 401)
	}
	if op.Admin {
		errs = append(errs, 403)
	}
	errs = append(errs, 429)
	sort.Ints(errs)
	for _, e := range errs {
		responses[itoa(e)] = map[string]any{"description": httpText(e), "content": problem}
	}
	o["responses"] = responses
	return o
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
	}
	return "error"
}

var timeType = reflect.TypeOf(time.Time{})

// SchemaOf derives a JSON Schema from a Go value's type using json tags;
// `validate:"required"` marks required properties.
func SchemaOf(v any) map[string]any {
	return schema(reflect.TypeOf(v), 0)
}

func schema(t reflect.Type, depth int) map[string]any {
	if depth > 8 {
		return map[string]any{}
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schema(t.Elem(), depth+1)
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schema(t.Elem(), depth+1)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schema(t.Elem(), depth+1)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				emb := schema(f.Type, depth+1)
				if p, ok := emb["properties"].(map[string]any); ok {
					for k, v := range p {
						props[k] = v
					}
				}
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schema(f.Type, depth+1)
			if strings.Contains(f.Tag.Get("validate"), "required") && !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}
