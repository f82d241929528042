package domain

import (
	"strings"
	"testing"
)

func valid() Draft {
	return Draft{SKU: "SKU-1", Name: "Headphones", Category: "Audio", Price: 1999, Currency: "usd", Images: []string{"https://img.example/1.jpg"}}
}

func TestDraftNormalize(t *testing.T) {
	t.Parallel()
	d := valid()
	if err := d.Normalize(iso); err != nil {
		t.Fatal(err)
	}
	if d.Currency != "USD" || d.Category != "audio" || d.Status != "active" || d.Attributes == nil {
		t.Fatalf("%+v", d)
	}
	bad := map[string]func(*Draft){
		"negative price":   func(d *Draft) { d.Price = -1 },
		"unknown currency": func(d *Draft) { d.Currency = "XYZ" },
		"no name":          func(d *Draft) { d.Name = " " },
		"bad sku":          func(d *Draft) { d.SKU = "has space" },
		"huge attributes":  func(d *Draft) { d.Attributes = map[string]any{"x": strings.Repeat("a", 20000)} },
		"many attributes": func(d *Draft) {
			d.Attributes = map[string]any{}
			for i := 0; i < 51; i++ {
				d.Attributes[strings.Repeat("k", i+1)] = 1
			}
		},
		"bad image":  func(d *Draft) { d.Images = []string{"javascript:alert(1)"} },
		"bad status": func(d *Draft) { d.Status = "deleted" },
	}
	for name, mut := range bad {
		d := valid()
		mut(&d)
		if err := d.Normalize(iso); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAdjust(t *testing.T) {
	t.Parallel()
	if n, err := Adjust(10, 4, -6); err != nil || n != 4 {
		t.Fatal(n, err)
	}
	if _, err := Adjust(10, 4, -7); err == nil {
		t.Fatal("below reserved accepted")
	}
}

func TestNormalizeLinesMergesAndSorts(t *testing.T) {
	t.Parallel()
	ok := func(string) bool { return true }
	out, err := NormalizeLines([]Line{{"b", 1}, {"a", 2}, {"b", 3}}, ok)
	if err != nil || len(out) != 2 || out[0] != (Line{"a", 2}) || out[1] != (Line{"b", 4}) {
		t.Fatalf("%v %v", out, err)
	}
	for _, bad := range [][]Line{nil, {{"a", 0}}, {{"a", -1}}, {{"a", MaxLineQuantity + 1}}} {
		if _, err := NormalizeLines(bad, ok); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// iso knows the currencies of these tests.
func iso(code string) bool { return code == "USD" || code == "EUR" }
