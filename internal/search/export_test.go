package search

import "github.com/opencommerce/commerce/internal/search/internal/engine"

// BackendForTest is the engine the module searches with.
func (m *Module) BackendForTest() engine.Backend { return m.backend }
