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

variable "create_database" {
  description = "Create the (default) database; false when the project already has one (creating it again is a 409)."
  type        = bool
  default     = true
}

variable "ttl_collection" {
  description = "Collection group whose documents expire (the webhook deduplication records)."
  type        = string
  default     = "processed_events"
}

variable "ttl_field" {
  description = "Timestamp field Firestore's TTL policy deletes documents after."
  type        = string
  default     = "expires_at"
}
