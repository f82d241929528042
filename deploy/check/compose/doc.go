// Package compose validates deploy/compose/compose.yaml offline: each
// profile loads and validates with compose-go (the library of docker
// compose itself), and the project's own rules hold, so that a compose
// file that `docker compose up` would reject or run wrongly (a serve
// racing migrations, a variable the binary ignores, a secret committed)
// fails `make deploy-check` instead.
package compose
