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

variable "customer_salt_secret_prefix" {
  description = "Prefix of the per-brand customer-hash salt secrets the runtime creates (names.CUSTOMER_SALT_SECRET_PREFIX)."
  type        = string
}

variable "propagation_delay" {
  description = "Pause after the accounts and grants are made, before anything that uses them starts."
  type        = string
  default     = "60s"
}
