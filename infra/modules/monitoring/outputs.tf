output "uptime_check_id" {
  description = "The /health uptime check."
  value       = google_monitoring_uptime_check_config.health.uptime_check_id
}

output "log_metrics" {
  description = "Log-based metric types the alerts and the dashboard read."
  value = concat(
    [for m in [google_logging_metric.sync_succeeded, google_logging_metric.ai_cost_usd, google_logging_metric.task_refused] : "logging.googleapis.com/user/${m.name}"],
    [for m in google_logging_metric.ai_tokens : "logging.googleapis.com/user/${m.name}"],
  )
}

output "dashboard" {
  description = "The Cloud Monitoring dashboard's id."
  value       = google_monitoring_dashboard.tower.id
}
