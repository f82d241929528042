package httpx

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

var strictJSON = sonic.Config{DisallowUnknownFields: true, ValidateString: true}.Froze()

// Validate is the shared validator; json tag names are used in field errors.
var Validate = func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}()

// ErrMalformedJSON is returned for bodies that are not the expected JSON.
var ErrMalformedJSON = errs.New(errs.BadRequest, "malformed_json", "the request body is not valid JSON for this endpoint")

// Bind decodes the JSON body strictly (unknown fields and trailing data are
// errors, bytes must be UTF-8, no string may hold NUL) into dst and
// validates it. Nothing is written on failure.
func Bind(c *fiber.Ctx, dst any) error {
	ct := strings.ToLower(string(c.Request().Header.ContentType()))
	if ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errs.New(errs.BadRequest, "unsupported_media_type", "send the body as application/json")
	}
	if err := DecodeJSON(c.Body(), dst, true); err != nil {
		return err
	}
	return Check(dst)
}

// Check validates a struct with the shared validator and turns failures
// into a validation problem naming each field.
func Check(v any) error {
	err := Validate.Struct(v)
	if err == nil {
		return nil
	}
	var ve validator.ValidationErrors
	if !errors.As(err, &ve) {
		return errs.Validation(errs.Field("", err.Error()))
	}
	fields := make([]errs.FieldError, 0, len(ve))
	for _, fe := range ve {
		ns := fe.Namespace()
		if i := strings.Index(ns, "."); i >= 0 {
			ns = ns[i+1:]
		}
		fields = append(fields, errs.Field(ns, message(fe, reflect.TypeOf(v))))
	}
	return errs.Validation(fields...)
}

// message is the sentence a person reads for one failed rule: what the
// value must be, never the validator's tag name.
func message(fe validator.FieldError, root reflect.Type) string {
	p := fe.Param()
	kind := fe.Kind()
	if kind == reflect.Pointer {
		kind = fe.Type().Elem().Kind()
	}
	text := kind == reflect.String
	items := kind == reflect.Slice || kind == reflect.Array || kind == reflect.Map
	numeric := !text && !items && kind != reflect.Bool && kind != reflect.Struct && kind != reflect.Interface
	unit := func(n string) string {
		switch {
		case text && n == "1":
			return n + " character"
		case text:
			return n + " characters"
		case items && n == "1":
			return n + " item"
		case items:
			return n + " items"
		}
		return n
	}
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_with_all", "required_without", "required_without_all":
		if numeric && fe.Type().Kind() != reflect.Pointer {
			// A number field that is required fails on 0 as well as on
			// absence: say what a valid value is, from the field's own
			// bounds when it has them.
			return requiredNumber(root, fe)
		}
		switch fe.Tag() {
		case "required_with", "required_with_all":
			return "is required when " + siblings(root, fe, p) + " is given"
		case "required_without", "required_without_all":
			return "is required when " + siblings(root, fe, p) + " is not given"
		}
		return "is required"
	case "excluded_with", "excluded_with_all":
		return "must not be given together with " + siblings(root, fe, p)
	case "email":
		return "must be a valid email address"
	case "min", "gte":
		if items {
			return "must have at least " + unit(p)
		}
		return "must be at least " + unit(p)
	case "max", "lte":
		if items {
			return "must have at most " + unit(p)
		}
		return "must be at most " + unit(p)
	case "gt":
		if text || items {
			return "must be longer than " + unit(p)
		}
		return "must be greater than " + p
	case "lt":
		if text || items {
			return "must be shorter than " + unit(p)
		}
		return "must be less than " + p
	case "len":
		if text || items {
			return "must have exactly " + unit(p)
		}
		return "must be " + p
	case "eq":
		return "must be " + p
	case "ne":
		return "must not be " + p
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(p, " ", ", ")
	case "uuid", "uuid4", "uuid7", "uuid_rfc4122", "uuid4_rfc4122":
		return "must be a UUID"
	case "iso3166_1_alpha2":
		return "must be an ISO 3166-1 alpha-2 country code"
	case "iso4217":
		return "must be an ISO 4217 currency code"
	case "e164":
		return "must be a phone number in E.164 form (+4915112345678)"
	case "url", "uri":
		return "must be a URL"
	case "http_url":
		return "must be an http or https URL"
	case "gtfield":
		return "must be greater than " + sibling(root, fe, p)
	case "gtefield":
		return "must be at least " + sibling(root, fe, p)
	case "ltfield":
		return "must be less than " + sibling(root, fe, p)
	case "ltefield":
		return "must be at most " + sibling(root, fe, p)
	case "eqfield":
		return "must equal " + sibling(root, fe, p)
	case "nefield":
		return "must differ from " + sibling(root, fe, p)
	case "alpha":
		return "must contain only letters"
	case "alphanum":
		return "must contain only letters and digits"
	case "numeric", "number":
		return "must contain only digits"
	case "ascii", "printascii":
		return "must contain only ASCII characters"
	case "hexadecimal":
		return "must be hexadecimal"
	case "base64", "base64url", "base64rawurl":
		return "must be base64"
	case "boolean":
		return "must be true or false"
	case "datetime":
		return "must be a date/time in the form " + p
	case "unique":
		return "must not contain duplicates"
	case "startswith":
		return "must start with " + p
	case "endswith":
		return "must end with " + p
	case "contains":
		return "must contain " + p
	case "excludes", "excludesall", "excludesrune":
		return "must not contain any of " + strconv.Quote(p)
	case "dive":
		return "has an invalid item"
	}
	return "is not valid"
}

// siblings renders the Go field names of a rule's parameter (required_with
// and friends) as the JSON names a client knows.
func siblings(root reflect.Type, fe validator.FieldError, p string) string {
	names := strings.Fields(p)
	for i, n := range names {
		names[i] = sibling(root, fe, n)
	}
	return strings.Join(names, ", ")
}

// sibling is the JSON name of the Go field goName next to the failed
// field (found by walking root along the failed field's struct path).
func sibling(root reflect.Type, fe validator.FieldError, goName string) string {
	segs := strings.Split(fe.StructNamespace(), ".")
	if len(segs) > 0 {
		segs[len(segs)-1] = goName
	}
	if f, ok := structField(root, segs); ok {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			return name
		}
	}
	return goName
}

// structField finds the field at a validator struct path (segs[0] is root
// itself; "Items[2]" segments step into elements).
func structField(root reflect.Type, segs []string) (reflect.StructField, bool) {
	t := root
	var f reflect.StructField
	for i := 1; i < len(segs); i++ {
		if t = elemStruct(t); t == nil {
			return f, false
		}
		name, _, _ := strings.Cut(segs[i], "[")
		var ok bool
		if f, ok = t.FieldByName(name); !ok {
			return f, false
		}
		t = f.Type
	}
	return f, len(segs) > 1
}

// requiredNumber is the message of a required number field that is 0
// (absent or sent as 0): its lower bound when its rules give one.
func requiredNumber(root reflect.Type, fe validator.FieldError) string {
	if f, ok := structField(root, strings.Split(fe.StructNamespace(), ".")); ok {
		for _, r := range strings.Split(f.Tag.Get("validate"), ",") {
			rule, arg, _ := strings.Cut(r, "=")
			switch rule {
			case "gt":
				return "must be greater than " + arg
			case "gte", "min":
				return "must be at least " + arg
			}
		}
	}
	return "is required and must not be 0"
}

// elemStruct strips pointers, slices and maps down to a struct type (nil
// when there is none).
func elemStruct(t reflect.Type) reflect.Type {
	for t != nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			return t
		default:
			return nil
		}
	}
	return nil
}
