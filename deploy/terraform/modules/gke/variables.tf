variable "project_id" {
  type        = string
  description = "GCP project of the cluster."
}

variable "region" {
  type        = string
  description = "Region of the regional cluster (control plane and nodes spread over its zones)."
}

variable "name" {
  type        = string
  description = "Name of the cluster and prefix of its node pools and service account."
}

variable "network_id" {
  type        = string
  description = "VPC of the cluster (network module output network_id)."
}

variable "subnet_id" {
  type        = string
  description = "Subnet of the nodes (network module output subnet_id)."
}

variable "pods_range_name" {
  type        = string
  description = "Secondary range of the subnet for pods."
}

variable "services_range_name" {
  type        = string
  description = "Secondary range of the subnet for Services."
}

variable "master_ipv4_cidr_block" {
  type        = string
  description = "The /28 of the private control plane's endpoint."
  default     = "172.16.0.0/28"
}

variable "master_authorized_networks" {
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  description = "Networks allowed to reach the control plane (CI runners, operators' VPN). Empty: only the VPC."
  default     = []
}

variable "enable_private_endpoint" {
  type        = bool
  description = "Whether the control plane has only a private endpoint (then terraform and kubectl must run from inside the VPC)."
  default     = false
}

variable "release_channel" {
  type        = string
  description = "GKE release channel: RAPID, REGULAR or STABLE."
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "release_channel must be RAPID, REGULAR or STABLE."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Whether terraform refuses to destroy the cluster."
  default     = true
}

variable "node_pools" {
  type = map(object({
    machine_type = string
    min_nodes    = number
    max_nodes    = number
    disk_size_gb = number
    spot         = bool
    labels       = map(string)
    taints = list(object({
      key    = string
      value  = string
      effect = string
    }))
  }))
  description = <<-EOT
    Node pools by name (min_nodes/max_nodes per zone). The manifests of
    deploy/k8s schedule by the label commerce.dev/pool: stateful
    (PostgreSQL, Kafka, Redis), stateless (the shop's contexts, on Spot),
    monitoring (Prometheus, Loki, Tempo, Grafana), infra (operators,
    ArgoCD) and gateway (Traefik). Every pool but stateless carries a
    NoSchedule taint of the same name, so only what tolerates it lands
    there.
  EOT
  default = {
    stateful = {
      machine_type = "n2-standard-4"
      min_nodes    = 1
      max_nodes    = 2
      disk_size_gb = 100
      spot         = false
      labels       = { "commerce.dev/pool" = "stateful" }
      taints       = [{ key = "commerce.dev/pool", value = "stateful", effect = "NO_SCHEDULE" }]
    }
    stateless = {
      machine_type = "n2-standard-4"
      min_nodes    = 1
      max_nodes    = 5
      disk_size_gb = 50
      spot         = true
      labels       = { "commerce.dev/pool" = "stateless" }
      taints       = []
    }
    monitoring = {
      machine_type = "n2-standard-4"
      min_nodes    = 1
      max_nodes    = 2
      disk_size_gb = 100
      spot         = false
      labels       = { "commerce.dev/pool" = "monitoring" }
      taints       = [{ key = "commerce.dev/pool", value = "monitoring", effect = "NO_SCHEDULE" }]
    }
    infra = {
      machine_type = "e2-standard-2"
      min_nodes    = 1
      max_nodes    = 2
      disk_size_gb = 50
      spot         = false
      labels       = { "commerce.dev/pool" = "infra" }
      taints       = [{ key = "commerce.dev/pool", value = "infra", effect = "NO_SCHEDULE" }]
    }
    gateway = {
      machine_type = "e2-standard-2"
      min_nodes    = 1
      max_nodes    = 3
      disk_size_gb = 50
      spot         = false
      labels       = { "commerce.dev/pool" = "gateway" }
      taints       = [{ key = "commerce.dev/pool", value = "gateway", effect = "NO_SCHEDULE" }]
    }
  }
}
