package httpx

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bytedance/sonic"
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// ErrInvalidCharacters is answered for text holding U+0000 or bytes that
// are not UTF-8: PostgreSQL cannot store NUL in text, and silently turning
// bad bytes into U+FFFD would store something the client never sent.
var ErrInvalidCharacters = errs.New(errs.BadRequest, "invalid_characters", "text must be UTF-8 without NUL (U+0000) characters")

// CleanText reports whether s is valid UTF-8 without NUL: the one rule
// every piece of client text (body strings, query and path parameters,
// WebSocket frames) obeys before it reaches a handler or the database.
func CleanText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// invalidChars is ErrInvalidCharacters naming where the bad text was.
func invalidChars(field string) error {
	return &errs.Error{Kind: errs.BadRequest, Code: ErrInvalidCharacters.Code, Detail: ErrInvalidCharacters.Detail,
		Fields: []errs.FieldError{errs.Field(field, "must be UTF-8 text without NUL (U+0000) characters")}}
}

// RejectInvalidCharacters is the app-wide guard on the request line: any
// path, query parameter name or value that is not UTF-8, or holds NUL,
// is answered 400 invalid_characters before routing, so no handler
// (and no SQL parameter) ever sees one.
func RejectInvalidCharacters(c *fiber.Ctx) error {
	if err := CheckRequestLine(c.Request().URI().Path(), c.Request().URI().QueryArgs()); err != nil {
		return err
	}
	return c.Next()
}

// queryArgs is the part of fasthttp.Args that CheckRequestLine needs
// (an interface so fuzz tests can drive it without a request).
type queryArgs interface {
	VisitAll(func(k, v []byte))
}

// CheckRequestLine checks a decoded path and the decoded query arguments.
func CheckRequestLine(path []byte, args queryArgs) error {
	if !utf8.Valid(path) || bytes.IndexByte(path, 0) >= 0 {
		return invalidChars("path")
	}
	var bad error
	args.VisitAll(func(k, v []byte) {
		if bad != nil {
			return
		}
		if !utf8.Valid(k) || bytes.IndexByte(k, 0) >= 0 {
			bad = invalidChars("query")
			return
		}
		if !utf8.Valid(v) || bytes.IndexByte(v, 0) >= 0 {
			bad = invalidChars(string(k))
		}
	})
	return bad
}

// DecodeJSON is the one decoder of client JSON (request bodies through
// Bind, WebSocket frames): the bytes must be UTF-8, strict rejects unknown
// fields, and no decoded string (key or value, at any depth) may hold NUL.
// It does not run the validator; Bind does.
func DecodeJSON(data []byte, dst any, strict bool) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return ErrMalformedJSON.WithDetail("a JSON body is required")
	}
	if !utf8.Valid(data) {
		return ErrMalformedJSON.WithDetail("the body is not valid UTF-8")
	}
	api := lenientJSON
	if strict {
		api = strictJSON
	}
	if err := api.Unmarshal(data, dst); err != nil {
		msg := err.Error()
		if strings.HasPrefix(msg, "json: unknown field") {
			return errs.Validation(errs.Field(strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), "unknown field"))
		}
		if strings.HasPrefix(msg, "Mismatch type") {
			return ErrMalformedJSON.WithDetail("a field has the wrong JSON type")
		}
		return ErrMalformedJSON
	}
	if field, bad := badText(reflect.ValueOf(dst), ""); bad {
		return invalidChars(field)
	}
	return nil
}

var lenientJSON = sonic.Config{ValidateString: true}.Froze()

// badText walks a decoded value and returns the JSON path of the first
// string (or map key) that is not clean text.
func badText(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return badText(v.Elem(), path)
	case reflect.String:
		if !CleanText(v.String()) {
			return path, true
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			sub := path
			if !(f.Anonymous && name == "") {
				if name == "" {
					name = f.Name
				}
				sub = join(path, name)
			}
			if p, bad := badText(v.Field(i), sub); bad {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // bytes (base64 in JSON) are not text
		}
		for i := 0; i < v.Len(); i++ {
			if p, bad := badText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); bad {
				return p, true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			ks := ""
			if k.Kind() == reflect.String {
				ks = k.String()
				if !CleanText(ks) {
					return join(path, "(key)"), true
				}
			}
			if p, bad := badText(it.Value(), join(path, ks)); bad {
				return p, true
			}
		}
	}
	return "", false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
