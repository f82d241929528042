output "network_id" {
  description = "ID of the VPC (projects/<project>/global/networks/<name>)."
  value       = google_compute_network.vpc.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.vpc.name
}

output "subnet_id" {
  description = "ID of the nodes' subnet."
  value       = google_compute_subnetwork.nodes.id
}

output "subnet_name" {
  description = "Name of the nodes' subnet."
  value       = google_compute_subnetwork.nodes.name
}

output "pods_range_name" {
  description = "Name of the subnet's secondary range for pods (the cluster's cluster_secondary_range_name)."
  value       = google_compute_subnetwork.nodes.secondary_ip_range[0].range_name
}

output "services_range_name" {
  description = "Name of the subnet's secondary range for Services (the cluster's services_secondary_range_name)."
  value       = google_compute_subnetwork.nodes.secondary_ip_range[1].range_name
}
