# Cloud Tasks queues. Tasks are HTTP tasks the code creates with a URL (names.function_url) and an
# OIDC token for the tasks account; a handler that answers non-2xx is retried with the backoff below
# and dropped after max_attempts (the sync's checkpoint in sync_state makes the next run resume).

resource "google_cloud_tasks_queue" "queue" {
  for_each = var.queues

  project  = var.project_id
  location = var.region
  name     = each.key

  rate_limits {
    max_dispatches_per_second = each.value.max_dispatches_per_second
    max_concurrent_dispatches = each.value.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = each.value.max_attempts
    min_backoff        = each.value.min_backoff
    max_backoff        = each.value.max_backoff
    max_doublings      = each.value.max_doublings
    max_retry_duration = each.value.max_retry_duration
  }

  stackdriver_logging_config {
    sampling_ratio = 1.0
  }
}

# Enqueue on a queue: the functions whose code creates tasks on it, each on that queue only.
resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = var.enqueuers

  project  = var.project_id
  location = var.region
  name     = google_cloud_tasks_queue.queue[each.value.target].name
  role     = "roles/cloudtasks.enqueuer"
  member   = each.value.member
}
