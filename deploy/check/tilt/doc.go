// Package tilt runs the repository's Tiltfile offline in a Starlark
// interpreter (the language Tilt's files are written in) against stub
// functions that record every call, and checks what Tilt would do: build
// the image the dev overlay runs, apply that overlay, live-update the
// binary built on the host, port-forward the shop. A Tiltfile that does
// not parse, calls an unknown function or points at a missing path fails
// `make deploy-check` instead of a developer's `tilt up`.
package tilt
