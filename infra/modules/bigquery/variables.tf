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

variable "editor_member" {
  description = "IAM member that reads and writes the tables (the functions' runtime account)."
  type        = string
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
