package servertest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/opencommerce/commerce/internal/platform/httpx"
)

// The contract check: every response a test receives through Do is
// validated against the OpenAPI document the same server publishes at
// /openapi.json. The status must be documented for the operation, the
// media type declared for that status, and a JSON body must validate
// against the declared schema (problem+json against Problem). So a field,
// a status or a value the document does not promise fails the test that
// saw it. OPENAPI_CHECK=off disables the check (for debugging only).

// docURL is where a document is registered with the schema compiler; the
// fragments of its operations' schemas are JSON pointers under it.
const docURL = "mem:///openapi.json"

// contract is one server's document, its operations and compiled schemas.
type contract struct {
	ops []operation
	mu  sync.Mutex
	c   *jsonschema.Compiler
	sch map[string]*jsonschema.Schema
}

// operation is one method+path template with its documented responses.
type operation struct {
	method, path string
	segs         []string
	literals     int
	// responses maps a status to its media types (nil: no body), each to
	// the JSON pointer of its schema ("" when it has none).
	responses map[string]map[string]string
}

var (
	contractsMu sync.Mutex
	contracts   = map[string]*contract{}
)

// checkContract validates one response; it reports failures with t.Errorf
// (safe from any goroutine) so the test goes on and shows every mismatch.
func checkContract(t testing.TB, base, method, path string, res Response) {
	t.Helper()
	if os.Getenv("OPENAPI_CHECK") == "off" || method == "HEAD" || method == "OPTIONS" {
		return
	}
	// Streams are not request/response bodies: a WebSocket upgrade (101)
	// and Server-Sent Events are checked by their own tests.
	media := mediaType(res.Header.Get("Content-Type"))
	if res.Status == http.StatusSwitchingProtocols || media == "text/event-stream" {
		return
	}
	u, err := url.Parse(path)
	if err != nil {
		return // not a path a client could send; the test checks the answer
	}
	c, err := contractOf(base, false)
	if err != nil {
		t.Logf("openapi check skipped: %v", err)
		return
	}
	op := c.match(method, u.EscapedPath())
	if op == nil {
		// The document may be another process's that listened on the same
		// port before: read it again once.
		if c2, err := contractOf(base, true); err == nil {
			c, op = c2, c2.match(method, u.EscapedPath())
		}
	}
	if op == nil && method == http.MethodGet && httpx.IsClientRoute(u.Path) && (media == "text/html" || res.Status == http.StatusNotModified) {
		// A browser's client route (/products/abc) is answered the
		// storefront's entry page: the catch-all is documented as GET /.
		op = c.match(method, "/")
	}
	what := fmt.Sprintf("%s %s → %d", method, path, res.Status)
	if op == nil {
		// An unknown route or method is a plain 404/405 problem.
		if (res.Status == http.StatusNotFound || res.Status == http.StatusMethodNotAllowed) && media == "application/problem+json" {
			if err := c.validate("#/components/schemas/Problem", res.Body); err != nil {
				t.Errorf("openapi: %s: body is not a Problem: %v\n%s", what, err, excerpt(res.Body))
			}
			return
		}
		t.Errorf("openapi: %s: no documented operation matches", what)
		return
	}
	what = fmt.Sprintf("%s %s (%s %s) → %d", method, path, op.method, op.path, res.Status)
	content, ok := op.responses[strconv.Itoa(res.Status)]
	if !ok {
		t.Errorf("openapi: %s: status not documented (documented: %s)\n%s", what, keys(op.responses), excerpt(res.Body))
		return
	}
	if len(res.Body) == 0 {
		if len(content) > 0 && res.Status != http.StatusNotModified {
			t.Errorf("openapi: %s: empty body, documented %s", what, keys(content))
		}
		return
	}
	ptr, ok := content[media]
	if !ok {
		t.Errorf("openapi: %s: media type %q not documented (documented: %s)\n%s", what, media, keys(content), excerpt(res.Body))
		return
	}
	if ptr == "" || !(media == "application/json" || strings.HasSuffix(media, "+json")) {
		return
	}
	if err := c.validate(ptr, res.Body); err != nil {
		t.Errorf("openapi: %s: body does not match the documented schema: %v\n%s", what, err, excerpt(res.Body))
	}
}

func mediaType(ct string) string {
	m, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return m
}

func excerpt(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func keys[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// contractOf returns the contract of the server at base, reading its
// document the first time (or again when reload is set).
func contractOf(base string, reload bool) (*contract, error) {
	contractsMu.Lock()
	defer contractsMu.Unlock()
	if c, ok := contracts[base]; ok && !reload {
		return c, nil
	}
	client := &http.Client{Timeout: 15 * time.Second}
	res, err := client.Get(base + "/openapi.json")
	if err != nil {
		return nil, fmt.Errorf("read %s/openapi.json: %w", base, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s/openapi.json: %w", base, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/openapi.json answered %d", base, res.StatusCode)
	}
	c, err := parseContract(body)
	if err != nil {
		return nil, err
	}
	contracts[base] = c
	return c, nil
}

// parseContract indexes a document's operations and registers it with a
// schema compiler (JSON Schema 2020-12, formats asserted).
func parseContract(body []byte) (*contract, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("openapi.json is not JSON: %w", err)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	if err := comp.AddResource(docURL, doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	c := &contract{c: comp, sch: map[string]*jsonschema.Schema{}}
	root, _ := doc.(map[string]any)
	paths, _ := root["paths"].(map[string]any)
	for path, item := range paths {
		methods, _ := item.(map[string]any)
		for method, o := range methods {
			opObj, _ := o.(map[string]any)
			responses, _ := opObj["responses"].(map[string]any)
			op := operation{method: strings.ToUpper(method), path: path, segs: strings.Split(path, "/"), responses: map[string]map[string]string{}}
			for _, s := range op.segs {
				if !strings.HasPrefix(s, "{") {
					op.literals++
				}
			}
			for status, r := range responses {
				resp, _ := r.(map[string]any)
				content, _ := resp["content"].(map[string]any)
				media := map[string]string{}
				for m, mt := range content {
					ptr := ""
					if mo, _ := mt.(map[string]any); mo["schema"] != nil {
						ptr = "#/" + strings.Join([]string{"paths", escape(path), method, "responses", status, "content", escape(m), "schema"}, "/")
					}
					media[m] = ptr
				}
				op.responses[status] = media
			}
			c.ops = append(c.ops, op)
		}
	}
	return c, nil
}

// escape is a JSON pointer token as a URL fragment.
func escape(tok string) string {
	tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
	return url.PathEscape(tok)
}

// match finds the operation of method and an escaped request path; of
// several templates the one with the most literal segments wins
// (/notifications/stream over /notifications/{id}).
func (c *contract) match(method, path string) *operation {
	segs := strings.Split(path, "/")
	var best *operation
	for i := range c.ops {
		op := &c.ops[i]
		if op.method != method || len(op.segs) != len(segs) {
			continue
		}
		ok := true
		for j, s := range op.segs {
			if strings.HasPrefix(s, "{") {
				ok = segs[j] != ""
			} else {
				ok = s == segs[j]
			}
			if !ok {
				break
			}
		}
		if ok && (best == nil || op.literals > best.literals) {
			best = op
		}
	}
	return best
}

// validate checks body against the schema at the document fragment ptr.
func (c *contract) validate(ptr string, body []byte) error {
	c.mu.Lock()
	s, ok := c.sch[ptr]
	if !ok {
		var err error
		if s, err = c.c.Compile(docURL + ptr); err != nil {
			c.mu.Unlock()
			return fmt.Errorf("compile %s: %w", ptr, err)
		}
		c.sch[ptr] = s
	}
	c.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}
