variable "project_id" {
  description = "Project of the database."
  type        = string
}

variable "location" {
  description = "Database location (nam5, eur3 or a region)."
  type        = string
}

variable "delete_protection" {
  description = "Refuse deletion of the database."
  type        = bool
  default     = true
}
