package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/opencommerce/commerce/"

var contexts = []string{"auth", "catalog", "cart", "ordering", "payments", "fulfillment", "notify", "chat", "search"}

// infrastructure a domain package must not import.
var infra = []string{
	"github.com/gofiber", "github.com/uptrace/bun", "github.com/jackc/pgx", "github.com/ThreeDotsLabs/watermill",
	"github.com/redis", "github.com/twmb/franz-go", "google.golang.org/grpc", "database/sql", "net/http",
	module + "internal/platform/pg", module + "internal/platform/events", module + "internal/platform/httpx",
	module + "internal/platform/redisx",
}

type file struct {
	path    string
	ctx     string // bounded context the file belongs to, or ""
	domain  bool
	imports []string
}

func scan(t *testing.T) []file {
	t.Helper()
	var out []file
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		parts := strings.Split(filepath.ToSlash(p), "/")
		fl := file{path: p}
		for _, c := range contexts {
			if parts[0] == c {
				fl.ctx = c
			}
		}
		fl.domain = strings.Contains(filepath.ToSlash(p), "/internal/domain/")
		for _, im := range f.Imports {
			s, _ := strconv.Unquote(im.Path.Value)
			fl.imports = append(fl.imports, s)
		}
		out = append(out, fl)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A context imports another context only through its <ctx>api package.
func TestContextsTalkOnlyThroughTheirAPI(t *testing.T) {
	for _, f := range scan(t) {
		if f.ctx == "" {
			continue
		}
		for _, im := range f.imports {
			for _, other := range contexts {
				prefix := module + "internal/" + other
				if other == f.ctx || (im != prefix && !strings.HasPrefix(im, prefix+"/")) {
					continue
				}
				if im != prefix+"/"+other+"api" && !strings.HasPrefix(im, prefix+"/"+other+"api/") {
					t.Errorf("%s imports %s: contexts may only import %sapi", f.path, im, other)
				}
			}
		}
	}
}

// Domain packages stay free of infrastructure.
func TestDomainImportsNoInfrastructure(t *testing.T) {
	for _, f := range scan(t) {
		if !f.domain {
			continue
		}
		for _, im := range f.imports {
			for _, bad := range infra {
				if im == bad || strings.HasPrefix(im, bad+"/") || strings.HasPrefix(im, bad) && strings.HasPrefix(bad, "github.com/") {
					t.Errorf("%s (domain) imports infrastructure %s", f.path, im)
				}
			}
		}
	}
}

// No context's SQL reads another context's schema.
func TestNoContextReadsAnotherSchema(t *testing.T) {
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		own := strings.Split(filepath.ToSlash(p), "/")[0]
		isCtx := false
		for _, c := range contexts {
			isCtx = isCtx || c == own
		}
		if !isCtx {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(b)
		for _, other := range contexts {
			if other == own {
				continue
			}
			for _, kw := range []string{"FROM " + other + ".", "JOIN " + other + ".", "INTO " + other + ".", "UPDATE " + other + ".", "table:" + other + "."} {
				if strings.Contains(src, kw) {
					t.Errorf("%s touches schema %q (%s)", p, other, kw)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
