// Package templates renders notification emails from HTML and text
// templates embedded in the binary.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
)

//go:embed files/*
var files embed.FS

var (
	htmlT = htmltemplate.Must(htmltemplate.ParseFS(files, "files/*.html"))
	textT = texttemplate.Must(texttemplate.ParseFS(files, "files/*.txt"))
)

var subjects = map[string]string{
	"verify_email":   "Confirm your email address",
	"password_reset": "Reset your password",
}

// Rendered is a ready email.
type Rendered struct {
	Subject, Text, HTML string
}

// Render renders kind (verify_email, password_reset) with data.
func Render(kind string, data any) (Rendered, error) {
	subj, ok := subjects[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("unknown email kind %q", kind)
	}
	var t, h bytes.Buffer
	if err := textT.ExecuteTemplate(&t, kind+".txt", data); err != nil {
		return Rendered{}, err
	}
	if err := htmlT.ExecuteTemplate(&h, kind+".html", data); err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: subj, Text: t.String(), HTML: h.String()}, nil
}
