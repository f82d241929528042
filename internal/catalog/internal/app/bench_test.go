package app_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
)

// BenchmarkReserve measures reservations per second on the real database:
// 1-line and 5-line orders spread over 1,000 products, and 1-line orders
// all on one hot product. Run: go test -bench Reserve -run ^$ ./internal/catalog/internal/app/
func BenchmarkReserve(b *testing.B) {
	s, _ := newService(b)
	products := make([]string, 1000)
	for i := range products {
		products[i] = product(b, s, 1_000_000_000)
	}
	cases := []struct {
		name  string
		lines int
		hot   bool
	}{{"spread-1-line", 1, false}, {"spread-5-lines", 5, false}, {"hot-product-1-line", 1, true}}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(4) // 8 goroutines on 2 cores: more than the pool keeps busy
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 1))
				for pb.Next() {
					lines := make([]catalogapi.Line, c.lines)
					for i := range lines {
						id := products[0]
						if !c.hot {
							id = products[r.IntN(len(products))]
						}
						lines[i] = catalogapi.Line{ProductID: id, Quantity: 1}
					}
					if err := s.Reserve(context.Background(), uuid.Must(uuid.NewV7()).String(), lines, nil); err != nil {
						b.Error(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reservations/s")
		})
	}
}
