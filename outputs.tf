output "api_url" {
  description = "HTTPS URL of the API (and the page it serves)."
  value       = module.functions.uris["api"]
}

output "shopify_webhooks_url" {
  description = "Address to register as the Shopify app's webhook endpoint."
  value       = module.functions.uris["shopify_webhooks"]
}

output "function_uris" {
  description = "Every function's run.app URL, by entry point."
  value       = module.functions.uris
}

output "tasks_target_url" {
  description = "TOWER_TASKS_TARGET_URL: base URL of the task handlers."
  value       = local.function_env.TOWER_TASKS_TARGET_URL
}

output "function_environment" {
  description = "The TOWER_* settings every function runs with (use the same to run the CLI against this deployment)."
  value       = local.function_env
}

output "bigquery_dataset" {
  description = "Dataset holding the warehouse tables."
  value       = module.bigquery.dataset_id
}

output "service_accounts" {
  description = "Identities the deployment runs and calls functions as (functions: entry point -> its own account)."
  value = {
    functions = module.iam.function_emails
    tasks     = module.iam.tasks_invoker_email
    scheduler = module.iam.scheduler_email
    push      = module.iam.push_invoker_email
    builder   = module.iam.builder_email
  }
}

output "dead_letter_subscriptions" {
  description = "Where undeliverable events wait for inspection or replay, by topic."
  value       = module.pubsub.dead_letter_subscriptions
}

output "monitoring" {
  description = "The uptime check, the log-based metrics and the dashboard."
  value = {
    uptime_check_id = module.monitoring.uptime_check_id
    log_metrics     = module.monitoring.log_metrics
    dashboard       = module.monitoring.dashboard
  }
}

output "functions_source_url" {
  description = "gs:// URL of the source zip the functions were deployed from (cloudbuild.yaml's rollback reads it)."
  value       = module.functions.source_url
}

output "function_names" {
  description = "Entry point -> deployed function (Cloud Run service) name."
  value       = module.functions.names
}
