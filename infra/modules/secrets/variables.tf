variable "project_id" {
  description = "Project of the secrets."
  type        = string
}

variable "secrets" {
  description = "Secret ids to declare (names.SECRETS)."
  type        = list(string)
}

variable "accessor_member" {
  description = "IAM member that reads the secrets' values (the functions' runtime account)."
  type        = string
}

variable "labels" {
  description = "Labels on the secrets."
  type        = map(string)
  default     = {}
}
