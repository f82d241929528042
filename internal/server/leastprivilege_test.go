package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestAdminRoutesRefuseEveryoneElse walks /openapi.json: every operation
// under /api/v1/admin/ is marked admin-only, and every admin-only
// operation answers a customer's token 403 and no token 401, as
// problem+json, before reading its input (a plausible body is sent), and
// writes nothing (not even an audit row).
func TestAdminRoutesRefuseEveryoneElse(t *testing.T) {
	e, _, cust := adminAndCustomer(t, nil)
	var doc schema
	if err := json.Unmarshal(e.Do("GET", "/openapi.json", nil, "").Body, &doc); err != nil {
		t.Fatal(err)
	}
	snap := newSnapshotter(t, e.DB)
	before := snap.quiet()
	audited := countRows(t, e, "SELECT count(*) FROM platform.audit_log") // the snapshot leaves it out (see excludedTable)
	client := &http.Client{Timeout: 10 * time.Second}
	paths, _ := doc["paths"].(schema)
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	ops := 0
	for _, path := range names {
		for m, raw := range paths[path].(schema) {
			op, ok := raw.(schema)
			if !ok {
				continue
			}
			admin := op["x-admin"] == true
			if strings.HasPrefix(path, "/api/v1/admin/") && !admin {
				t.Errorf("%s %s is under /api/v1/admin/ but not admin-only", strings.ToUpper(m), path)
				continue
			}
			if !admin {
				continue
			}
			ops++
			concrete := path
			for strings.Contains(concrete, "{") {
				i, j := strings.Index(concrete, "{"), strings.Index(concrete, "}")
				concrete = concrete[:i] + "0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11" + concrete[j+1:]
			}
			var body []byte
			if rb, ok := op["requestBody"].(schema); ok {
				s := rb["content"].(schema)["application/json"].(schema)["schema"].(schema)
				body = mustJSON(fill(doc, s, "", map[string]string{"id": "0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11"}))
			}
			for tok, want := range map[string]int{"": 401, cust: 403} {
				req, err := http.NewRequest(strings.ToUpper(m), e.URL+concrete, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", m, concrete, err)
				}
				b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
				res.Body.Close()
				var p struct {
					Status int    `json:"status"`
					Code   string `json:"code"`
				}
				_ = json.Unmarshal(b, &p)
				wantCode := map[int]string{401: "unauthenticated", 403: "forbidden"}[want]
				if res.StatusCode != want || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || p.Status != want || p.Code != wantCode {
					t.Errorf("%s %s (token=%t): %d %s %s, want %d %s", strings.ToUpper(m), path, tok != "", res.StatusCode, res.Header.Get("Content-Type"), b, want, wantCode)
				}
			}
		}
	}
	if ops < 15 {
		t.Fatalf("only %d admin operations in /openapi.json", ops)
	}
	if changed := diff(before, snap.sums()); len(changed) > 0 {
		t.Fatalf("refused admin requests changed tables: %v", changed)
	}
	if n := countRows(t, e, "SELECT count(*) FROM platform.audit_log"); n != audited {
		t.Fatalf("refused admin requests wrote %d audit rows", n-audited)
	}
	t.Logf("%d admin operations refused to customers and anonymous callers", ops)
}
