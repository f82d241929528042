variable "chart_versions" {
  type = object({
    cloudnative_pg        = string
    strimzi               = string
    redis_operator        = string
    traefik               = string
    argo_cd               = string
    kube_prometheus_stack = string
    loki                  = string
    tempo                 = string
  })
  description = "Pinned Helm chart version of each operator; keep them in step with the CRD schemas deploy/k8s is validated against (docs/kubernetes.md)."
  default = {
    cloudnative_pg        = "0.27.0"
    strimzi               = "1.2.0"
    redis_operator        = "0.26.0"
    traefik               = "34.4.0"
    argo_cd               = "7.8.2"
    kube_prometheus_stack = "68.4.0"
    loki                  = "6.24.0"
    tempo                 = "1.16.0"
  }
}

variable "pool_label" {
  type        = string
  description = "Node label (and taint key) that names a node pool (gke module node_pools)."
  default     = "commerce.dev/pool"
}

variable "traefik_replicas" {
  type        = number
  description = "Replicas of Traefik, the Gateway API implementation in front of the shop's gateway."
  default     = 2
}

variable "traefik_load_balancer_ip" {
  type        = string
  description = "Reserved external address of Traefik's LoadBalancer Service; empty lets GCP pick one."
  default     = ""
}

variable "grafana_admin_secret" {
  type        = string
  description = "Name of an existing Secret in namespace monitoring with keys admin-user and admin-password for Grafana (no password in terraform state)."
  default     = "grafana-admin"
}

variable "strimzi_watch_namespaces" {
  type        = list(string)
  description = "Namespaces whose Kafka resources the Strimzi operator manages."
  default     = ["commerce"]
}
