variable "project_id" {
  type        = string
  description = "GCP project that holds the network."
}

variable "region" {
  type        = string
  description = "Region of the subnet, router and Cloud NAT (the cluster's region)."
}

variable "name" {
  type        = string
  description = "Prefix of every resource name (e.g. commerce-prod)."
}

variable "subnet_cidr" {
  type        = string
  description = "Primary range of the subnet: the nodes' addresses."
  default     = "10.10.0.0/20"
}

variable "pods_cidr" {
  type        = string
  description = "Secondary range of the subnet for pod addresses (VPC-native cluster)."
  default     = "10.20.0.0/14"
}

variable "services_cidr" {
  type        = string
  description = "Secondary range of the subnet for Service (ClusterIP) addresses."
  default     = "10.24.0.0/20"
}

variable "nat_log_filter" {
  type        = string
  description = "What Cloud NAT logs: ERRORS_ONLY, TRANSLATIONS_ONLY or ALL."
  default     = "ERRORS_ONLY"

  validation {
    condition     = contains(["ERRORS_ONLY", "TRANSLATIONS_ONLY", "ALL"], var.nat_log_filter)
    error_message = "nat_log_filter must be ERRORS_ONLY, TRANSLATIONS_ONLY or ALL."
  }
}
