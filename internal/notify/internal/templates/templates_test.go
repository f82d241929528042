package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirectoryOverridesEmbeddedTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("order.txt", "ACME: {{.Headline}} ({{.OrderID}})")
	write("subjects.json", `{"order_paid": "ACME got your money"}`)
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.Render("order_paid", map[string]any{"Headline": "Paid", "OrderID": "o-1", "Total": "", "Link": "", "Reason": "", "PayBy": "", "Refunded": ""})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "ACME: Paid (o-1)" || r.Subject != "ACME got your money" || !strings.Contains(r.HTML, "o-1") {
		t.Fatalf("rendered: %+v", r)
	}
	// The embedded set is untouched.
	if d, _ := Default().Render("order_paid", map[string]any{"Headline": "Paid", "OrderID": "o-1"}); strings.HasPrefix(d.Text, "ACME") || d.Subject != "Payment received" {
		t.Fatalf("default changed: %+v", d)
	}
}

func TestBadOverridesFailAtLoad(t *testing.T) {
	for name, body := range map[string]string{
		"order.html":    "{{.Broken",
		"typo.html":     "<p>hi</p>",
		"subjects.json": `{"no_such_kind": "x"}`,
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing dir accepted")
	}
}
