variable "project_id" {
  description = "Project the service accounts live in."
  type        = string
}

variable "project_number" {
  description = "Project number: Secret Manager resource names in IAM conditions use it, not the id."
  type        = string
}

variable "functions" {
  description = "Entry point -> its function's name and access list (main.tf's functions; what each may do)."
  type        = map(object({ name = string, access = list(string) }))

  validation {
    # account_id "tower-fn-<name without tower->" must fit in 30 characters.
    condition     = alltrue([for f in values(var.functions) : length(trimprefix(f.name, "tower-")) <= 21])
    error_message = "A function name (without its tower- prefix) longer than 21 characters gives an account id over 30."
  }

  validation {
    condition = alltrue(flatten([for f in values(var.functions) : [
      for a in f.access : contains(["warehouse", "store", "brand-secrets:read", "brand-secrets:manage"], a) || can(regex("^(queue|topic|secret):[a-z0-9-]+$", a))
    ]]))
    error_message = "access items are warehouse, store, brand-secrets:read, brand-secrets:manage, queue:Q, topic:T or secret:S."
  }
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
