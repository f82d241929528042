# Production on GKE: the network, the cluster with its five node pools,
# then the operators in it. ArgoCD then syncs deploy/argocd, which
# renders deploy/k8s/overlays/prod (docs/deploy.md, docs/kubernetes.md).

provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_client_config" "current" {}

provider "kubernetes" {
  host                   = "https://${module.gke.endpoint}"
  token                  = data.google_client_config.current.access_token
  cluster_ca_certificate = base64decode(module.gke.cluster_ca_certificate)
}

provider "helm" {
  kubernetes {
    host                   = "https://${module.gke.endpoint}"
    token                  = data.google_client_config.current.access_token
    cluster_ca_certificate = base64decode(module.gke.cluster_ca_certificate)
  }
}

module "network" {
  source = "../../modules/network"

  project_id = var.project_id
  region     = var.region
  name       = var.name
}

module "gke" {
  source = "../../modules/gke"

  project_id                 = var.project_id
  region                     = var.region
  name                       = var.name
  network_id                 = module.network.network_id
  subnet_id                  = module.network.subnet_id
  pods_range_name            = module.network.pods_range_name
  services_range_name        = module.network.services_range_name
  master_authorized_networks = var.master_authorized_networks
  release_channel            = var.release_channel
}

# The namespace of the shop, created here so that Strimzi can watch it
# before ArgoCD syncs the manifests.
resource "kubernetes_namespace" "commerce" {
  metadata {
    name = "commerce"
    labels = {
      "app.kubernetes.io/part-of" = "commerce"
    }
  }

  depends_on = [module.gke]
}

module "operators" {
  source = "../../modules/operators"

  traefik_load_balancer_ip = var.traefik_load_balancer_ip
  strimzi_watch_namespaces = [kubernetes_namespace.commerce.metadata[0].name]

  depends_on = [module.gke]
}
