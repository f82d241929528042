// Package templates renders notification emails from HTML and text
// templates embedded in the binary, any of which a shop can override by
// dropping a file of the same name into a directory (NOTIFY_TEMPLATES_DIR).
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
)

//go:embed files/*
var files embed.FS

var defaultSubjects = map[string]string{
	"verify_email":     "Confirm your email address",
	"password_reset":   "Reset your password",
	"order_placed":     "Thanks for your order",
	"payment_reminder": "Your order is waiting for payment",
	"order_paid":       "Payment received",
	"order_expired":    "Your order expired",
	"order_canceled":   "Your order was canceled",
	"order_refunded":   "Your refund is on its way",
	"order_shipped":    "Your order has shipped",
	"chat_message":     "You have a new message",
	"webhook_disabled": "A webhook endpoint was disabled",
	"cart_recovery":    "You left something in your cart",
}

// templateOf maps kinds that share a template to it.
var templateOf = map[string]string{
	"order_placed": "order", "payment_reminder": "order", "order_paid": "order",
	"order_expired": "order", "order_canceled": "order", "order_refunded": "order", "order_shipped": "order",
}

// Set is a parsed set of templates and subject lines.
type Set struct {
	html     *htmltemplate.Template
	text     *texttemplate.Template
	subjects map[string]string
}

var builtin = mustBuiltin()

func mustBuiltin() *Set {
	return &Set{
		html:     htmltemplate.Must(htmltemplate.ParseFS(files, "files/*.html")),
		text:     texttemplate.Must(texttemplate.ParseFS(files, "files/*.txt")),
		subjects: defaultSubjects,
	}
}

// Default is the embedded set.
func Default() *Set { return builtin }

// Load is the embedded set with the files of dir laid over it: a file
// named like an embedded one (order.html, verify_email.txt) replaces it,
// and subjects.json ({"order_paid": "..."}) replaces subject lines. An
// empty dir is the embedded set. A template that does not parse, or a
// file that replaces nothing, fails at startup rather than at send time.
func Load(dir string) (*Set, error) {
	if dir == "" {
		return builtin, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("templates dir: %w", err)
	}
	html, err := builtin.html.Clone()
	if err != nil {
		return nil, err
	}
	text, err := builtin.text.Clone()
	if err != nil {
		return nil, err
	}
	s := &Set{html: html, text: text, subjects: maps.Clone(defaultSubjects)}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		switch {
		case name == "subjects.json":
			var subj map[string]string
			if err := json.Unmarshal(body, &subj); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for k, v := range subj {
				if _, ok := defaultSubjects[k]; !ok {
					return nil, fmt.Errorf("subjects.json: unknown kind %q", k)
				}
				s.subjects[k] = v
			}
		case strings.HasSuffix(name, ".html") && builtin.html.Lookup(name) != nil:
			if _, err := s.html.New(name).Parse(string(body)); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		case strings.HasSuffix(name, ".txt") && builtin.text.Lookup(name) != nil:
			if _, err := s.text.New(name).Parse(string(body)); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		default:
			return nil, fmt.Errorf("templates dir: %s overrides no template (have %s)", name, strings.Join(Names(), ", "))
		}
	}
	return s, nil
}

// Names lists the file names that can be overridden.
func Names() []string {
	var out []string
	_ = fs.WalkDir(files, "files", func(p string, d fs.DirEntry, _ error) error {
		if !d.IsDir() {
			out = append(out, d.Name())
		}
		return nil
	})
	return append(out, "subjects.json")
}

// Subject is the subject line of a kind (the kind itself when unknown).
func (s *Set) Subject(kind string) string {
	if v, ok := s.subjects[kind]; ok {
		return v
	}
	return kind
}

// Rendered is a ready email.
type Rendered struct {
	Subject, Text, HTML string
}

// ErrUnknownKind is returned for a kind without templates.
var ErrUnknownKind = errors.New("unknown email kind")

// Render renders the email of kind with data.
func (s *Set) Render(kind string, data any) (Rendered, error) {
	subj, ok := s.subjects[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknownKind, kind)
	}
	name := kind
	if n, ok := templateOf[kind]; ok {
		name = n
	}
	var t, h bytes.Buffer
	if err := s.text.ExecuteTemplate(&t, name+".txt", data); err != nil {
		return Rendered{}, err
	}
	if err := s.html.ExecuteTemplate(&h, name+".html", data); err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: subj, Text: t.String(), HTML: h.String()}, nil
}
