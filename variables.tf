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

variable "shopify_client_id" {
  description = "The Shopify app's client id (TOWER_SHOPIFY_CLIENT_ID): the install URL's client_id and the session tokens' audience. Empty: merchants cannot install from Shopify (the install routes answer 503)."
  type        = string
  default     = ""
}

variable "firebase_web_api_key" {
  description = "Identity Platform's Web API key of this project (TOWER_FIREBASE_WEB_API_KEY; public, it names the project to the page's e-mail sign-in). Empty: people sign in with API keys and Shopify session tokens only."
  type        = string
  default     = ""
}

variable "http_public_access" {
  description = <<-EOT
    How the two public functions (api, shopify_webhooks) accept callers without Google ID tokens.
    "allUsers": a run.invoker binding for allUsers (the default). "invoker_check_disabled": no such
    binding, for organisations whose domain-restricted-sharing policy refuses allUsers; cloudbuild.yaml
    then runs `gcloud run services update SERVICE --no-invoker-iam-check` on both after each apply
    (Cloud Run's documented way to serve publicly under that policy). Either way both functions
    authenticate every request themselves (API keys / sessions, Shopify's HMAC signature).
  EOT
  type        = string
  default     = "allUsers"

  validation {
    condition     = contains(["allUsers", "invoker_check_disabled"], var.http_public_access)
    error_message = "http_public_access must be \"allUsers\" or \"invoker_check_disabled\"."
  }
}

variable "create_firestore_database" {
  description = "Create the (default) Firestore database. Set false when the project already has one (creating it again fails with 409), or import it into the state instead (README, runbook)."
  type        = bool
  default     = true
}

variable "alert_emails" {
  description = "E-mail addresses the alerts and the budget notify (infra/modules/monitoring)."
  type        = list(string)
  default     = []
}

variable "ai_daily_budget_usd" {
  description = "Claude spend over 24 hours, in USD, above which an alert fires."
  type        = number
  default     = 50
}

variable "billing_account" {
  description = "Billing account id for the project's monthly budget alert; empty creates no budget (the applying identity needs billing.budgets.create on that account)."
  type        = string
  default     = ""
}

variable "monthly_budget" {
  description = "The project's monthly budget, in the billing account's currency."
  type        = number
  default     = 500
}
