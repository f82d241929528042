// Package check validates the deployment artifacts under deploy/ offline
// (no network, no Docker engine, no cluster): Kubernetes manifests rendered
// by kustomize and checked against committed schemas and the project's own
// rules, the compose file, the Dockerfile, the Tiltfile, the Terraform
// modules and the CI workflow. It is a module of its own so that the
// validators' dependencies (kustomize, compose-go, buildkit, ...) never
// enter the shop's binary or its dependency graph. Run it with
// `make deploy-check` (part of `make test`).
package check
