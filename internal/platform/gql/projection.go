package gql

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/wundergraph/graphql-go-tools/v2/pkg/ast"
)

// projection shapes a pushed event (the JSON of the REST live stream,
// snake_case keys) as the selection of a subscription field asks: each
// selected field is read from the event key of the same name in
// snake_case (createdAt ← created_at), enum values are upper-cased as the
// schema spells them, __typename is the type's name.
type projection struct {
	typeName string
	fields   []projected
}

type projected struct {
	key, source string
	typename    bool
	enum        bool
}

// newProjection reads the selection of field (in a normalized operation:
// fragments inlined) against the type's definition in schema.
func newProjection(doc *ast.Document, schema *ast.Document, field int, typeName string) (*projection, error) {
	p := &projection{typeName: typeName}
	set, ok := doc.FieldSelectionSet(field)
	if !ok {
		return nil, fmt.Errorf("%s needs a selection of fields", typeName)
	}
	node, ok := schema.Index.FirstNodeByNameStr(typeName)
	if !ok || node.Kind != ast.NodeKindObjectTypeDefinition {
		return nil, fmt.Errorf("the schema has no type %s", typeName)
	}
	for _, sel := range doc.SelectionSets[set].SelectionRefs {
		if doc.Selections[sel].Kind != ast.SelectionKindField {
			return nil, fmt.Errorf("only fields of %s can be selected", typeName)
		}
		f := doc.Selections[sel].Ref
		name := doc.FieldNameString(f)
		e := projected{key: doc.FieldAliasOrNameString(f), source: snake(name)}
		if name == "__typename" {
			e.typename = true
			p.fields = append(p.fields, e)
			continue
		}
		if doc.FieldHasSelections(f) {
			return nil, fmt.Errorf("%s.%s: nested selections are not served by this subscription", typeName, name)
		}
		def, ok := schema.ObjectTypeDefinitionFieldWithName(node.Ref, []byte(name))
		if !ok {
			return nil, fmt.Errorf("%s has no field %s", typeName, name)
		}
		if t, ok := schema.Index.FirstNodeByNameStr(schema.FieldDefinitionTypeNameString(def)); ok && t.Kind == ast.NodeKindEnumTypeDefinition {
			e.enum = true
		}
		p.fields = append(p.fields, e)
	}
	return p, nil
}

// apply shapes one event.
func (p *projection) apply(src map[string]any) map[string]any {
	out := make(map[string]any, len(p.fields))
	for _, f := range p.fields {
		switch {
		case f.typename:
			out[f.key] = p.typeName
		case f.enum:
			if s, ok := src[f.source].(string); ok {
				out[f.key] = strings.ToUpper(s)
			} else {
				out[f.key] = src[f.source]
			}
		default:
			out[f.key] = src[f.source]
		}
	}
	return out
}

// snake is a GraphQL field name as the REST JSON spells it.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
