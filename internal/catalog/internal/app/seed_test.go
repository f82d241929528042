package app

import (
	"reflect"
	"testing"
)

func TestDemoProductsAreDeterministicAndValid(t *testing.T) {
	t.Parallel()
	a, b := DemoProducts(0, 300), DemoProducts(100, 200)
	if !reflect.DeepEqual(a[100:], b) {
		t.Fatal("the same index must give the same product")
	}
	cats := map[string]int{}
	for _, p := range a {
		if _, err := p.draft(); err != nil {
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
