variable "project_id" {
  description = "Project of the functions."
  type        = string
}

variable "region" {
  description = "Region of the functions and the source bucket."
  type        = string
}

variable "functions" {
  description = "Entry point -> deployed name, trigger (http | topic:<t> | queue:<q> | schedule) and sizing."
  type = map(object({
    name            = string
    trigger         = string
    memory          = string
    cpu             = string
    timeout_seconds = number
    max_instances   = number
    concurrency     = number
    access          = list(string)
  }))
}

variable "environment" {
  description = "TOWER_* environment every function runs with."
  type        = map(string)
}

variable "invoker_members" {
  description = "Trigger kind (http, topic, queue, schedule) -> the IAM member allowed to invoke such functions."
  type        = map(string)
}

variable "invoked_functions" {
  description = "The entries of var.functions that get a run.invoker binding (all, or all but the http ones)."
  type = map(object({
    name            = string
    trigger         = string
    memory          = string
    cpu             = string
    timeout_seconds = number
    max_instances   = number
    concurrency     = number
    access          = list(string)
  }))
}

variable "source_archive" {
  description = "Path of the zip built by infra/package_source.py."
  type        = string
}

variable "service_account_emails" {
  description = "Entry point -> the service account its function runs as (one per function, iam module)."
  type        = map(string)
}

variable "build_service_account_id" {
  description = "Resource name of the service account the container builds run as."
  type        = string
}

variable "labels" {
  description = "Labels on the functions and the bucket."
  type        = map(string)
  default     = {}
}

variable "source_retention_days" {
  description = "Days a source zip is kept in the bucket (rollbacks redeploy an older one)."
  type        = number
  default     = 90
}
