package servertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// recorder is a testing.TB that keeps what Errorf reported.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

type widget struct {
	ID        string    `json:"id"`
	Status    string    `json:"status" enum:"new,done"`
	CreatedAt time.Time `json:"created_at"`
}

// widgetServer publishes a document for GET /widgets/{id} and answers with the
// body and status the path asks for.
func widgetServer(t *testing.T) string {
	var reg openapi.Registry
	reg.Add(openapi.Op{Method: "GET", Path: "/api/v1/widgets/{id}", Summary: "one", Response: widget{}, Errors: []int{404}})
	doc, err := json.Marshal(reg.Document("t", "v"))
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]struct {
		status int
		ct     string
		body   string
	}{
		"ok":       {200, "application/json", `{"id":"1","status":"new","created_at":"2026-01-02T03:04:05Z"}`},
		"extra":    {200, "application/json", `{"id":"1","status":"new","created_at":"2026-01-02T03:04:05Z","secret":1}`},
		"enum":     {200, "application/json", `{"id":"1","status":"lost","created_at":"2026-01-02T03:04:05Z"}`},
		"missing":  {200, "application/json", `{"id":"1","status":"new"}`},
		"time":     {200, "application/json", `{"id":"1","status":"new","created_at":"yesterday"}`},
		"gone":     {404, "application/problem+json", `{"type":"/problems/not_found","title":"Not Found","status":404,"code":"not_found"}`},
		"conflict": {409, "application/problem+json", `{"type":"/problems/conflict","title":"Conflict","status":409,"code":"conflict"}`},
		"badprob":  {404, "application/problem+json", `{"status":404}`},
		"html":     {200, "text/html", `<p>hi</p>`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/openapi.json" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
			return
		}
		b, ok := bodies[strings.TrimPrefix(r.URL.Path, "/api/v1/widgets/")]
		if !ok || !strings.HasPrefix(r.URL.Path, "/api/v1/widgets/") {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"type":"/problems/not_found","title":"Not Found","status":404,"code":"not_found"}`))
			return
		}
		w.Header().Set("Content-Type", b.ct)
		w.WriteHeader(b.status)
		_, _ = w.Write([]byte(b.body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestEveryResponseIsCheckedAgainstTheDocument(t *testing.T) {
	base := widgetServer(t)
	for _, tc := range []struct {
		path, want string
	}{
		{"/api/v1/widgets/ok", ""},
		{"/api/v1/widgets/gone", ""},
		{"/nowhere", ""}, // an unknown route answered with a plain 404 problem
		{"/api/v1/widgets/extra", "additional properties 'secret'"},
		{"/api/v1/widgets/enum", "value must be one of"},
		{"/api/v1/widgets/missing", "missing property 'created_at'"},
		{"/api/v1/widgets/time", "is not valid date-time"},
		{"/api/v1/widgets/conflict", "status not documented"},
		{"/api/v1/widgets/badprob", "missing properties"},
		{"/api/v1/widgets/html", `media type "text/html" not documented`},
	} {
		rec := &recorder{TB: t}
		Do(rec, base, "GET", tc.path, nil, "")
		got := strings.Join(rec.errs, "\n")
		if tc.want == "" && got != "" {
			t.Errorf("%s: unexpected failure: %s", tc.path, got)
		}
		if tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: want a failure containing %q, got %q", tc.path, tc.want, got)
		}
	}
	rec := &recorder{TB: t}
	Do(rec, base, "DELETE", "/api/v1/widgets/ok", nil, "")
	if !strings.Contains(strings.Join(rec.errs, ""), "no documented operation") {
		t.Errorf("an undocumented method passed: %v", rec.errs)
	}
}
