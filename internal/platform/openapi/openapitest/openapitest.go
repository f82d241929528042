// Package openapitest checks generated documents against the OpenAPI 3.1
// meta-schema (the one libopenapi-validator embeds, so no network), for
// the tests of the generator and of the served document.
package openapitest

import (
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// Valid31 fails t unless raw is a valid OpenAPI 3.1 document.
func Valid31(t testing.TB, raw []byte) {
	t.Helper()
	for _, e := range Errors31(t, raw) {
		t.Error(e)
	}
}

// Errors31 lists why raw is not a valid OpenAPI 3.1 document (none when
// it is); a document that cannot even be parsed fails t.
func Errors31(t testing.TB, raw []byte) []string {
	t.Helper()
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatalf("parse OpenAPI document: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("OpenAPI validator: %v", errs)
	}
	var out []string
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			out = append(out, e.Message+": "+e.Reason)
			for _, se := range e.SchemaValidationErrors {
				out = append(out, "  "+se.Reason+" at "+se.FieldPath+" ("+se.KeywordLocation+")")
			}
		}
	}
	return out
}
