variable "project_id" {
  description = "GCP project that hosts Control Tower."
  type        = string
}

variable "region" {
  description = "Region of the functions, task queues, scheduler jobs and the source bucket."
  type        = string
  default     = "us-central1"
}

variable "bigquery_location" {
  description = "BigQuery dataset location (multi-region US or EU, or a region)."
  type        = string
  default     = "US"
}

variable "firestore_location" {
  description = "Firestore database location (multi-region nam5 / eur3, or a region)."
  type        = string
  default     = "nam5"
}

variable "dataset_id" {
  description = "BigQuery dataset holding every table of shared/tower/sql/schema."
  type        = string
  default     = "tower"
}

variable "source_archive" {
  description = "Zip of the functions' source, built by `python infra/package_source.py` (path relative to the working directory)."
  type        = string
  default     = "out/functions-source.zip"
}

variable "scheduler_time_zone" {
  description = "Time zone the Cloud Scheduler crons are read in."
  type        = string
  default     = "Etc/UTC"
}

variable "sync_schedule" {
  description = "Cron of schedule_syncs (one sync task per brand × platform)."
  type        = string
  default     = "0 * * * *"
}

variable "deletion_protection" {
  description = "Protect the BigQuery tables and the Firestore database from `terraform destroy`."
  type        = bool
  default     = true
}
