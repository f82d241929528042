variable "project_id" {
  type        = string
  description = "GCP project of the production environment."
}

variable "region" {
  type        = string
  description = "Region of the network and the regional cluster."
  default     = "europe-west1"
}

variable "name" {
  type        = string
  description = "Prefix of the environment's resources (network, cluster, service accounts)."
  default     = "commerce-prod"
}

variable "master_authorized_networks" {
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  description = "Networks allowed to reach the cluster's control plane (where terraform, kubectl and CI run)."
  default     = []
}

variable "release_channel" {
  type        = string
  description = "GKE release channel of the cluster."
  default     = "REGULAR"
}

variable "traefik_load_balancer_ip" {
  type        = string
  description = "Reserved external address for the shop's public edge (Traefik); empty lets GCP pick one."
  default     = ""
}
