output "function_emails" {
  description = "Entry point -> the service account its function runs as."
  value       = { for ep, sa in google_service_account.function : ep => sa.email }
}

output "tasks_invoker_email" {
  description = "Service account Cloud Tasks signs task-handler calls with (TOWER_TASKS_SERVICE_ACCOUNT)."
  value       = google_service_account.tasks.email
}

output "scheduler_email" {
  description = "Service account Cloud Scheduler signs its calls with."
  value       = google_service_account.scheduler.email
}

output "push_invoker_email" {
  description = "Service account Pub/Sub signs push deliveries with."
  value       = google_service_account.push.email
}

output "push_invoker_id" {
  description = "Resource name of the push account (projects/P/serviceAccounts/EMAIL)."
  value       = google_service_account.push.name
}

output "builder_email" {
  description = "Service account the functions' container builds run as."
  value       = google_service_account.builder.email
}

output "builder_id" {
  description = "Resource name of the build account, as Cloud Functions' build_config expects it."
  value       = google_service_account.builder.name
}
