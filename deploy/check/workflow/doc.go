// Package workflow validates .github/workflows/ci.yml offline: actionlint
// (run as a separate binary, installed by .ci/run; as a library its
// dependencies clash with compose-go's) finds nothing, and the workflow
// has the jobs the project relies on: vet, the tests with PostgreSQL and
// Redis service containers, the image pushed from main only, and the
// deployment checks, with every action pinned to a version.
package workflow
