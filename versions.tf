terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    # google_project_service_identity (the Pub/Sub service agent) exists in the beta provider only.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.0"
    }
    # time_sleep: IAM grants and new service accounts propagate before what uses them starts.
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13"
    }
  }

  # State lives in a GCS bucket chosen at init time (partial configuration):
  #   terraform init -backend-config="bucket=STATE_BUCKET" -backend-config="prefix=control-tower"
  # cloudbuild.yaml passes both; `terraform init -backend=false` is enough for `terraform validate`.
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
