output "name" {
  description = "Name of the cluster."
  value       = google_container_cluster.cluster.name
}

output "endpoint" {
  description = "Address of the control plane (private when enable_private_endpoint), for the kubernetes and helm providers."
  value       = google_container_cluster.cluster.endpoint
  sensitive   = true
}

output "cluster_ca_certificate" {
  description = "Base64 CA certificate of the control plane."
  value       = google_container_cluster.cluster.master_auth[0].cluster_ca_certificate
  sensitive   = true
}

output "location" {
  description = "Region of the cluster (gcloud container clusters get-credentials NAME --region LOCATION)."
  value       = google_container_cluster.cluster.location
}

output "workload_pool" {
  description = "Workload Identity pool: bind a Kubernetes service account to a Google one as serviceAccount:POOL[namespace/ksa]."
  value       = "${var.project_id}.svc.id.goog"
}

output "node_service_account" {
  description = "Email of the nodes' Google service account."
  value       = google_service_account.nodes.email
}

output "node_pools" {
  description = "Names of the node pools."
  value       = [for p in google_container_node_pool.pools : p.name]
}
