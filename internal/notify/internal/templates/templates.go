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
	"verify_email":     "Confirm your email address",
	"password_reset":   "Reset your password",
	"order_placed":     "Thanks for your order",
	"payment_reminder": "Your order is waiting for payment",
	"order_paid":       "Payment received",
	"order_expired":    "Your order expired",
	"order_canceled":   "Your order was canceled",
	"order_refunded":   "Your refund is on its way",
	"order_shipped":    "Your order has shipped",
}

// templateOf maps kinds that share a template to it.
var templateOf = map[string]string{
	"order_placed": "order", "payment_reminder": "order", "order_paid": "order",
	"order_expired": "order", "order_canceled": "order", "order_refunded": "order", "order_shipped": "order",
}

// Subject is the subject line of a kind (the kind itself when unknown).
func Subject(kind string) string {
	if s, ok := subjects[kind]; ok {
		return s
	}
	return kind
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
	name := kind
	if n, ok := templateOf[kind]; ok {
		name = n
	}
	var t, h bytes.Buffer
	if err := textT.ExecuteTemplate(&t, name+".txt", data); err != nil {
		return Rendered{}, err
	}
	if err := htmlT.ExecuteTemplate(&h, name+".html", data); err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: subj, Text: t.String(), HTML: h.String()}, nil
}
