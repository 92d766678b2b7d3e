variable "project_id" {
  description = "Project monitored."
  type        = string
}

variable "project_number" {
  description = "Project number (the billing budget's project filter names it)."
  type        = string
}

variable "api_uri" {
  description = "HTTPS URL of the API function; the uptime check calls <host>/health."
  type        = string
}

variable "function_prefix" {
  description = "Prefix of every deployed function's Cloud Run service (names.FUNCTION_PREFIX)."
  type        = string
  default     = "tower-"
}

variable "api_service" {
  description = "Cloud Run service of the API function, for the latency alert."
  type        = string
  default     = "tower-api"
}

variable "alert_emails" {
  description = "Who receives the alerts (one e-mail notification channel each); empty: alerts only show in the console."
  type        = list(string)
  default     = []
}

variable "error_rate_threshold" {
  description = "Share of a function's requests answered 5xx above which it alerts (over error_rate_window)."
  type        = number
  default     = 0.05
}

variable "error_rate_window" {
  description = "How long the error rate must stay above the threshold."
  type        = string
  default     = "300s"
}

variable "api_latency_p95_ms" {
  description = "API 95th-percentile latency, in ms, above which it alerts (for 5 minutes)."
  type        = number
  default     = 1000
}

variable "freshness_hours" {
  description = "Hours without a successful sync of one brand and platform before it alerts."
  type        = number
  default     = 3
}

variable "ai_daily_budget_usd" {
  description = "Claude spend (USD) over any 24 hours above which it alerts."
  type        = number
  default     = 50
}

variable "billing_account" {
  description = "Billing account id (XXXXXX-XXXXXX-XXXXXX) for the monthly budget; empty: no budget is created."
  type        = string
  default     = ""
}

variable "monthly_budget" {
  description = "Monthly budget of the project, in the billing account's currency (alerts at 50, 90 and 100 %, and 100 % forecast)."
  type        = number
  default     = 500
}
