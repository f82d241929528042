// Package terraform validates deploy/terraform offline: every module is
// read by terraform-config-inspect (the parser the Terraform Registry uses)
// without errors, its variables are typed and described, its outputs
// described and its providers pinned, the environments wire the modules
// they name, and `terraform fmt -check` passes when the terraform binary
// is on the machine. `terraform init`, `validate` and `plan` need the
// providers and a GCP project, which the checks cannot reach.
package terraform
