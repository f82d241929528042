output "cluster_name" {
  description = "Name of the GKE cluster."
  value       = module.gke.name
}

output "get_credentials" {
  description = "The command that points kubectl at the cluster."
  value       = "gcloud container clusters get-credentials ${module.gke.name} --region ${module.gke.location} --project ${var.project_id}"
}

output "workload_pool" {
  description = "Workload Identity pool of the cluster, for binding the shop's Kubernetes service accounts to Google ones."
  value       = module.gke.workload_pool
}

output "network_name" {
  description = "Name of the VPC."
  value       = module.network.network_name
}

output "operator_releases" {
  description = "The operators' Helm releases and their pinned chart versions."
  value       = module.operators.releases
}
