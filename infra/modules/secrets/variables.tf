variable "project_id" {
  description = "Project of the secrets."
  type        = string
}

variable "secrets" {
  description = "Secret ids to declare (names.SECRETS)."
  type        = list(string)
}

variable "accessors" {
  description = "\"entry point/secret\" -> the secret (target) and the IAM member (its function's account) that reads it."
  type        = map(object({ target = string, member = string }))
}

variable "labels" {
  description = "Labels on the secrets."
  type        = map(string)
  default     = {}
}
