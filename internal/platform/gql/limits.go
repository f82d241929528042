package gql

import (
	"fmt"
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// check applies the limits to a query before it is planned: the status
// (0 when the query passes), the error code and message.
func (l Limits) check(query string) (int, string, string) {
	if len(query) > l.MaxQueryBytes {
		return http.StatusBadRequest, "query_too_large", fmt.Sprintf("the query is longer than %d bytes", l.MaxQueryBytes)
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return http.StatusBadRequest, "graphql_parse_failed", err.Error()
	}
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	w := walker{frags: frags, limits: l}
	for _, op := range doc.Operations {
		w.walk(op.SelectionSet, 1, map[string]bool{})
	}
	for _, f := range doc.Fragments {
		w.walk(f.SelectionSet, 1, map[string]bool{f.Name: true})
	}
	switch {
	case w.introspection && !l.Introspection:
		return http.StatusOK, "introspection_disabled", "introspection is turned off on this server"
	case w.depth > l.MaxDepth:
		return http.StatusOK, "query_too_deep", fmt.Sprintf("the query nests deeper than %d levels", l.MaxDepth)
	case w.aliases > l.MaxAliases:
		return http.StatusOK, "too_many_aliases", fmt.Sprintf("the query has more than %d aliases", l.MaxAliases)
	case w.fields > l.MaxFields:
		return http.StatusOK, "query_too_complex", fmt.Sprintf("the query selects more than %d fields", l.MaxFields)
	}
	return 0, "", ""
}

// walker measures a query with fragments expanded; it stops counting as
// soon as a bound is passed, so a fragment bomb costs no more than the
// bound.
type walker struct {
	frags         map[string]*ast.FragmentDefinition
	limits        Limits
	depth         int
	fields        int
	aliases       int
	introspection bool
}

func (w *walker) over() bool {
	return w.depth > w.limits.MaxDepth || w.fields > w.limits.MaxFields || w.aliases > w.limits.MaxAliases
}

func (w *walker) walk(set ast.SelectionSet, depth int, seen map[string]bool) {
	for _, sel := range set {
		if w.over() {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if depth > w.depth {
				w.depth = depth
			}
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			if s.Name == "__schema" || s.Name == "__type" {
				w.introspection = true
			}
			w.walk(s.SelectionSet, depth+1, seen)
		case *ast.InlineFragment:
			w.walk(s.SelectionSet, depth, seen)
		case *ast.FragmentSpread:
			f, ok := w.frags[s.Name]
			if !ok || seen[s.Name] {
				continue // unknown or cyclic: validation reports it
			}
			seen[s.Name] = true
			w.walk(f.SelectionSet, depth, seen)
			delete(seen, s.Name)
		}
	}
}

// isMutation reports whether the operation to run is a mutation (GET
// must not run one).
func isMutation(query, name string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return false
	}
	for _, op := range doc.Operations {
		if (name == "" || op.Name == name) && op.Operation == ast.Mutation {
			return true
		}
	}
	return false
}
