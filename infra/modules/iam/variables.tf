variable "project_id" {
  description = "Project the service accounts live in."
  type        = string
}

variable "project_number" {
  description = "Project number: Secret Manager resource names in IAM conditions use it, not the id."
  type        = string
}

variable "integration_secret_prefix" {
  description = "Prefix of the per-integration token secrets the runtime creates (names.INTEGRATION_SECRET_PREFIX)."
  type        = string
}
