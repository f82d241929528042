// Package dockerfile validates deploy/docker/Dockerfile offline with
// buildkit's own Dockerfile frontend, the code `docker build --check`
// runs (parse, instructions, every lint rule; base images are answered by
// a stub instead of a registry), then the project's rules: a non-root
// runtime, a -trimpath build stamped with the version, a HEALTHCHECK, the
// ports and the entrypoint, and nothing secret in ENV or ARG. It also
// checks that .dockerignore keeps out what must not reach the build and
// lets in what the build copies.
package dockerfile
