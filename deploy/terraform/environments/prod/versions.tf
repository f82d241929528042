terraform {
  required_version = ">= 1.6"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.20"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.35"
    }
  }

  # State in a GCS bucket of your own, configured at init time so that no
  # bucket name is committed:
  #   terraform init -backend-config="bucket=<your-state-bucket>" -backend-config="prefix=commerce/prod"
  backend "gcs" {}
}
