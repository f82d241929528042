package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// call is a module block of a configuration: its source and the
// arguments it sets (meta-arguments left out).
type call struct {
	source string
	keys   []string
}

// moduleArguments reads the module blocks of the .tf files of dir.
func moduleArguments(dir string) (map[string]call, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", dir, err)
	}
	meta := map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "providers": true, "depends_on": true}
	p := hclparse.NewParser()
	out := map[string]call{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		file, diags := p.ParseHCL(src, f)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %w", f, diags)
		}
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			return nil, fmt.Errorf("%s: not native HCL syntax", f)
		}
		for _, b := range body.Blocks {
			if b.Type != "module" || len(b.Labels) != 1 {
				continue
			}
			c := call{}
			for name, attr := range b.Body.Attributes {
				if name == "source" {
					v, d := attr.Expr.Value(&hcl.EvalContext{})
					if d.HasErrors() || v.Type() != cty.String {
						return nil, fmt.Errorf("%s: module %s: source is not a literal string", f, b.Labels[0])
					}
					c.source = v.AsString()
				}
				if !meta[name] {
					c.keys = append(c.keys, name)
				}
			}
			sort.Strings(c.keys)
			out[b.Labels[0]] = c
		}
	}
	return out, nil
}
