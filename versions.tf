terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
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
