package server_test

import (
	"os/exec"
	"strings"
	"testing"
)

// A deployment can compile a binary with only the contexts it hosts: with
// no_<ctx> tags the other contexts' packages are not linked at all.
func TestBuildTagsLeaveOutContexts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-tags", "no_auth no_cart no_fulfillment no_ordering no_payments no_notify", "-deps", "../../cmd/commerce").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := string(out)
	if !strings.Contains(deps, "/internal/catalog\n") {
		t.Fatal("catalog missing from a catalog-only build")
	}
	for _, ctx := range []string{"auth", "cart", "fulfillment", "ordering", "payments", "notify"} {
		if strings.Contains(deps, "/internal/"+ctx+"\n") {
			t.Errorf("%s is linked into a build tagged no_%s", ctx, ctx)
		}
	}
}
