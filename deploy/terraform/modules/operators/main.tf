# The operators and platform services the manifests of deploy/k8s rely on,
# as Helm releases with pinned chart versions: CloudNativePG (PostgreSQL),
# Strimzi (Kafka in KRaft mode), OT-Container-Kit's redis-operator,
# Traefik (the Gateway API implementation), ArgoCD (GitOps), and the
# monitoring stack (kube-prometheus-stack, Loki, Tempo). Each runs on its
# node pool: operators and ArgoCD on infra, Traefik on gateway, the
# monitoring stack on monitoring.

locals {
  # Scheduling onto a tainted pool: select it and tolerate its taint.
  on_pool = {
    for pool in ["infra", "gateway", "monitoring"] : pool => {
      nodeSelector = { (var.pool_label) = pool }
      tolerations = [{
        key      = var.pool_label
        operator = "Equal"
        value    = pool
        effect   = "NoSchedule"
      }]
    }
  }
}

resource "helm_release" "cloudnative_pg" {
  name             = "cnpg"
  namespace        = "cnpg-system"
  create_namespace = true
  repository       = "https://cloudnative-pg.github.io/charts"
  chart            = "cloudnative-pg"
  version          = var.chart_versions.cloudnative_pg
  atomic           = true

  values = [yamlencode(local.on_pool.infra)]
}

resource "helm_release" "strimzi" {
  name             = "strimzi"
  namespace        = "strimzi"
  create_namespace = true
  repository       = "https://strimzi.io/charts/"
  chart            = "strimzi-kafka-operator"
  version          = var.chart_versions.strimzi
  atomic           = true

  values = [yamlencode(merge(local.on_pool.infra, {
    watchNamespaces = var.strimzi_watch_namespaces
  }))]
}

resource "helm_release" "redis_operator" {
  name             = "redis-operator"
  namespace        = "redis-operator"
  create_namespace = true
  repository       = "https://ot-container-kit.github.io/helm-charts/"
  chart            = "redis-operator"
  version          = var.chart_versions.redis_operator
  atomic           = true

  values = [yamlencode(local.on_pool.infra)]
}

resource "helm_release" "traefik" {
  name             = "traefik"
  namespace        = "traefik"
  create_namespace = true
  repository       = "https://traefik.github.io/charts"
  chart            = "traefik"
  version          = var.chart_versions.traefik
  atomic           = true

  values = [yamlencode(merge(local.on_pool.gateway, {
    deployment = { replicas = var.traefik_replicas }
    # The Gateway and HTTPRoutes come from deploy/k8s (gatewayClassName
    # traefik); the chart provides the class and the controller only.
    providers = {
      kubernetesGateway = { enabled = true }
      kubernetesIngress = { enabled = false }
    }
    gatewayClass = { enabled = true, name = "traefik" }
    gateway      = { enabled = false }
    service = {
      type = "LoadBalancer"
      spec = var.traefik_load_balancer_ip == "" ? {} : { loadBalancerIP = var.traefik_load_balancer_ip }
    }
    metrics = { prometheus = { serviceMonitor = { enabled = true } } }
  }))]

  depends_on = [helm_release.kube_prometheus_stack]
}

resource "helm_release" "argo_cd" {
  name             = "argocd"
  namespace        = "argocd"
  create_namespace = true
  repository       = "https://argoproj.github.io/argo-helm"
  chart            = "argo-cd"
  version          = var.chart_versions.argo_cd
  atomic           = true

  values = [yamlencode({
    global = local.on_pool.infra
    # The ApplicationSet of deploy/argocd generates the Applications.
    applicationSet = { enabled = true }
    configs        = { params = { "server.insecure" = false } }
  })]
}

resource "helm_release" "kube_prometheus_stack" {
  name             = "kube-prometheus-stack"
  namespace        = "monitoring"
  create_namespace = true
  repository       = "https://prometheus-community.github.io/helm-charts"
  chart            = "kube-prometheus-stack"
  version          = var.chart_versions.kube_prometheus_stack
  atomic           = true
  timeout          = 900

  values = [yamlencode({
    prometheus = {
      prometheusSpec = merge(local.on_pool.monitoring, {
        retention                               = "15d"
        enableRemoteWriteReceiver               = true
        serviceMonitorSelectorNilUsesHelmValues = false
        podMonitorSelectorNilUsesHelmValues     = false
        ruleSelectorNilUsesHelmValues           = false
      })
    }
    alertmanager = { alertmanagerSpec = local.on_pool.monitoring }
    grafana = merge(local.on_pool.monitoring, {
      admin = { existingSecret = var.grafana_admin_secret }
      sidecar = {
        dashboards  = { enabled = true, searchNamespace = "ALL" }
        datasources = { enabled = true }
      }
    })
    prometheusOperator = local.on_pool.monitoring
    kube-state-metrics = local.on_pool.monitoring
  })]
}

resource "helm_release" "loki" {
  name             = "loki"
  namespace        = "monitoring"
  create_namespace = true
  repository       = "https://grafana.github.io/helm-charts"
  chart            = "loki"
  version          = var.chart_versions.loki
  atomic           = true
  timeout          = 900

  values = [yamlencode({
    deploymentMode = "SingleBinary"
    loki = {
      auth_enabled = false
      commonConfig = { replication_factor = 1 }
      storage      = { type = "filesystem" }
      schemaConfig = {
        configs = [{
          from         = "2024-01-01"
          store        = "tsdb"
          object_store = "filesystem"
          schema       = "v13"
          index        = { prefix = "index_", period = "24h" }
        }]
      }
    }
    singleBinary = merge(local.on_pool.monitoring, { replicas = 1 })
    read         = { replicas = 0 }
    write        = { replicas = 0 }
    backend      = { replicas = 0 }
  })]

  depends_on = [helm_release.kube_prometheus_stack]
}

resource "helm_release" "tempo" {
  name             = "tempo"
  namespace        = "monitoring"
  create_namespace = true
  repository       = "https://grafana.github.io/helm-charts"
  chart            = "tempo"
  version          = var.chart_versions.tempo
  atomic           = true

  values = [yamlencode(merge(local.on_pool.monitoring, {
    tempo = { receivers = { otlp = { protocols = { grpc = { endpoint = "0.0.0.0:4317" } } } } }
  }))]

  depends_on = [helm_release.kube_prometheus_stack]
}
