// Package k8s validates deploy/k8s and deploy/argocd offline: it renders
// every Kustomize overlay with the kustomize API, validates each object
// with kubeconform against the schemas committed in deploy/k8s/schemas,
// and checks the project's own rules against the binary (its
// configuration variables, contexts, gateway routes and event topics).
package k8s
