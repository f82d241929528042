package app_test

import (
	"reflect"
	"strings"
	"testing"

	. "github.com/opencommerce/commerce/internal/catalog/internal/app"
)

func TestDemoProductsAreDeterministicAndValid(t *testing.T) {
	t.Parallel()
	a, b := DemoProducts(0, 300), DemoProducts(100, 200)
	if !reflect.DeepEqual(a[100:], b) {
		t.Fatal("the same index must give the same product")
	}
	cats := map[string]int{}
	for _, p := range a {
		if err := Validate(p); err != nil {
			t.Fatalf("%s: %v", p.SKU, err)
		}
		if p.WeightGrams <= 0 {
			t.Fatalf("%s has no weight", p.SKU)
		}
		cats[p.Category]++
	}
	if len(cats) < 10 {
		t.Fatalf("categories: %v", cats)
	}
}

// The README's search examples (`sumsung` → Samsung, `hedphones` →
// headphones) find demo products even in a seed of a few products, and
// Samsung is among the makers of the electronics categories.
func TestDemoCatalogCoversTheREADMEExamples(t *testing.T) {
	t.Parallel()
	first := DemoProducts(0, 3)
	brands, headphones := map[string]bool{}, 0
	for _, p := range first {
		brands[p.Brand] = true
		if strings.Contains(p.Name, "Headphones") {
			headphones++
		}
	}
	if !brands["Samsung"] || headphones == 0 {
		t.Fatalf("first demo products: %+v", first)
	}
	samsung := map[string]int{}
	for _, p := range DemoProducts(0, 1000) {
		if p.Brand == "Samsung" {
			samsung[p.Category]++
		}
	}
	for _, c := range []string{"audio", "phones", "computers"} {
		if samsung[c] == 0 {
			t.Errorf("no Samsung %s in 1000 demo products: %v", c, samsung)
		}
	}
}
