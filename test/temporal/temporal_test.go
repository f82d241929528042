//go:build temporal

package temporal

import (
	"testing"

	"go.temporal.io/server/temporaltest"
)

func TestServerStarts(t *testing.T) {
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	_ = srv
}
