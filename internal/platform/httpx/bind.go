package httpx

import (
	"errors"
	"reflect"
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
// errors) into dst and validates it. Nothing is written on failure.
func Bind(c *fiber.Ctx, dst any) error {
	ct := strings.ToLower(string(c.Request().Header.ContentType()))
	if ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errs.New(errs.BadRequest, "unsupported_media_type", "send the body as application/json")
	}
	body := c.Body()
	if len(body) == 0 {
		return ErrMalformedJSON.WithDetail("a JSON body is required")
	}
	if err := strictJSON.Unmarshal(body, dst); err != nil {
		msg := err.Error()
		if strings.HasPrefix(msg, "json: unknown field") {
			return errs.Validation(errs.Field(strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), "unknown field"))
		}
		if strings.HasPrefix(msg, "Mismatch type") {
			return ErrMalformedJSON.WithDetail("a field has the wrong JSON type")
		}
		return ErrMalformedJSON
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
		fields = append(fields, errs.Field(ns, message(fe)))
	}
	return errs.Validation(fields...)
}

func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be a valid email address"
	case "min":
		if fe.Kind() == reflect.String {
			return "must be at least " + fe.Param() + " characters"
		}
		return "must be at least " + fe.Param()
	case "max":
		if fe.Kind() == reflect.String {
			return "must be at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "len":
		return "must have length " + fe.Param()
	case "uuid", "uuid4", "uuid7":
		return "must be a UUID"
	case "iso3166_1_alpha2":
		return "must be an ISO 3166-1 alpha-2 country code"
	case "gte":
		return "must be at least " + fe.Param()
	case "lte":
		return "must be at most " + fe.Param()
	case "e164":
		return "must be a phone number in E.164 form (+4915112345678)"
	}
	return "is invalid (" + fe.Tag() + ")"
}
