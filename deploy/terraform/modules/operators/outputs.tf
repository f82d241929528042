output "releases" {
  description = "Each operator's Helm release: name => {namespace, chart, version}."
  value = {
    for r in [
      helm_release.cloudnative_pg,
      helm_release.strimzi,
      helm_release.redis_operator,
      helm_release.traefik,
      helm_release.argo_cd,
      helm_release.kube_prometheus_stack,
      helm_release.loki,
      helm_release.tempo,
    ] : r.name => { namespace = r.namespace, chart = r.chart, version = r.version }
  }
}

output "gateway_class" {
  description = "GatewayClass that Traefik implements, for the Gateway of deploy/k8s."
  value       = "traefik"
}

output "argocd_namespace" {
  description = "Namespace of ArgoCD, where the ApplicationSet of deploy/argocd is applied."
  value       = helm_release.argo_cd.namespace
}
