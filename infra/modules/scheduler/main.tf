# Cloud Scheduler: the hourly sync fan-out, an authenticated POST to its
# function. The handlers are idempotent, so a retried or doubly-fired job changes nothing.

resource "google_cloud_scheduler_job" "job" {
  for_each = var.jobs

  project     = var.project_id
  region      = var.region
  name        = each.key
  description = each.value.description
  schedule    = each.value.schedule
  time_zone   = var.time_zone
  # schedule_syncs only enqueues tasks.
  attempt_deadline = "540s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
    max_backoff_duration = "300s"
    max_doublings        = 2
  }

  http_target {
    http_method = "POST"
    uri         = var.function_uris[each.value.entry_point]
    body        = base64encode(jsonencode({ job = each.key }))
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = var.invoker_email
      audience              = var.function_uris[each.value.entry_point]
    }
  }
}
