variable "project_id" {
  description = "Project of the dataset."
  type        = string
}

variable "dataset_id" {
  description = "Dataset id."
  type        = string
}

variable "location" {
  description = "Dataset location."
  type        = string
}

variable "editor_members" {
  description = "Entry point -> IAM member (its function's account) that reads and writes the tables."
  type        = map(string)
}

variable "deletion_protection" {
  description = "Refuse to destroy tables (and their data) from Terraform."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels on the dataset and tables."
  type        = map(string)
  default     = {}
}
