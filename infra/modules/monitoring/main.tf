# Watching the deployment: an uptime check on the API, log-based metrics from the lines the code writes,
# alert policies, a dashboard and the project's monthly budget.
#
# The log-based metrics read the structured lines tower.logs writes (one JSON object a line: message,
# severity, then every field of the call's extra={...}); Cloud Logging keeps them as jsonPayload.*:
#   "sync finished" {brand_id, platform, status}       pipeline.run_sync, once per sync
#   "ai usage"      {brand_id, purpose, model, input_tokens, output_tokens, ..., cost_usd}
#                                                      ai.usage.record, once per Claude call
#   "task refused"  {retry, error, task_name}          functions/_http.respond, a task that cannot succeed
# tests/unit/infra/test_monitoring.py formats those very lines and evaluates each filter below on them.

locals {
  # Logging's query language: a regular expression on the service name (Monitoring's filters below use
  # starts_with for the same thing).
  run_logs     = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=~\"^${var.function_prefix}\""
  user_metrics = "logging.googleapis.com/user"
  api_host     = trimsuffix(trimprefix(var.api_uri, "https://"), "/")
  channels     = [for c in google_monitoring_notification_channel.email : c.id]
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.project_id
  display_name = "Control Tower alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

# --- log-based metrics -------------------------------------------------------------------------------

# One point per successful sync, by brand and platform: its absence for freshness_hours is stale data.
resource "google_logging_metric" "sync_succeeded" {
  project     = var.project_id
  name        = "tower_sync_succeeded"
  description = "Successful syncs (\"sync finished\" with status ok), by brand and platform."
  filter      = "${local.run_logs} AND jsonPayload.message=\"sync finished\" AND jsonPayload.status=\"ok\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "brand_id"
      value_type  = "STRING"
      description = "Brand synced."
    }
    labels {
      key         = "platform"
      value_type  = "STRING"
      description = "shopify, meta, tiktok or google_ads."
    }
  }

  label_extractors = {
    brand_id = "EXTRACT(jsonPayload.brand_id)"
    platform = "EXTRACT(jsonPayload.platform)"
  }
}

resource "google_logging_metric" "ai_cost_usd" {
  project     = var.project_id
  name        = "tower_ai_cost_usd"
  description = "Claude cost per call in USD (\"ai usage\" lines), by model and purpose."
  filter      = "${local.run_logs} AND jsonPayload.message=\"ai usage\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "USD"
    labels {
      key        = "model"
      value_type = "STRING"
    }
    labels {
      key        = "purpose"
      value_type = "STRING"
    }
  }

  value_extractor = "EXTRACT(jsonPayload.cost_usd)"
  label_extractors = {
    model   = "EXTRACT(jsonPayload.model)"
    purpose = "EXTRACT(jsonPayload.purpose)"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 32
      growth_factor      = 2
      scale              = 0.0001
    }
  }
}

resource "google_logging_metric" "ai_tokens" {
  for_each = toset(["input_tokens", "output_tokens"])

  project     = var.project_id
  name        = "tower_ai_${each.value}"
  description = "Claude ${replace(each.value, "_", " ")} per call (\"ai usage\" lines), by model and purpose."
  filter      = "${local.run_logs} AND jsonPayload.message=\"ai usage\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "1"
    labels {
      key        = "model"
      value_type = "STRING"
    }
    labels {
      key        = "purpose"
      value_type = "STRING"
    }
  }

  value_extractor = "EXTRACT(jsonPayload.${each.value})"
  label_extractors = {
    model   = "EXTRACT(jsonPayload.model)"
    purpose = "EXTRACT(jsonPayload.purpose)"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 24
      growth_factor      = 2
      scale              = 1
    }
  }
}

# Tasks answered 200 {"ok": false, "retry": false}: not retried, so only this metric shows them.
resource "google_logging_metric" "task_refused" {
  project     = var.project_id
  name        = "tower_task_refused"
  description = "Tasks refused as malformed or impossible (\"task refused\"), by function."
  filter      = "${local.run_logs} AND jsonPayload.message=\"task refused\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key        = "function"
      value_type = "STRING"
    }
  }

  label_extractors = {
    function = "EXTRACT(resource.labels.service_name)"
  }
}

# --- uptime ----------------------------------------------------------------------------------------

resource "google_monitoring_uptime_check_config" "health" {
  project      = var.project_id
  display_name = "Control Tower API /health"
  timeout      = "10s"
  period       = "300s"

  http_check {
    path           = "/health"
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"
    accepted_response_status_codes {
      status_class = "STATUS_CLASS_2XX"
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = local.api_host
    }
  }
}

# --- alert policies ----------------------------------------------------------------------------------

resource "google_monitoring_alert_policy" "api_down" {
  project               = var.project_id
  display_name          = "Control Tower: API /health failing"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "uptime check failing from 2 or more regions"
    condition_threshold {
      filter          = "resource.type=\"uptime_url\" AND metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.labels.check_id=\"${google_monitoring_uptime_check_config.health.uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "600s"
      aggregations {
        alignment_period     = "1200s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }
    }
  }

  documentation {
    content   = "GET /health on the API has failed from several regions for 10 minutes. README, runbook: check the tower-api function's logs and latest revision; roll back with cloudbuild's rollback step."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "function_errors" {
  project               = var.project_id
  display_name          = "Control Tower: function error rate above ${var.error_rate_threshold * 100} %"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "5xx share of requests, per function"
    condition_threshold {
      filter                  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=starts_with(\"${var.function_prefix}\") AND metric.type=\"run.googleapis.com/request_count\" AND metric.labels.response_code_class=\"5xx\""
      denominator_filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=starts_with(\"${var.function_prefix}\") AND metric.type=\"run.googleapis.com/request_count\""
      comparison              = "COMPARISON_GT"
      threshold_value         = var.error_rate_threshold
      duration                = var.error_rate_window
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    content   = "A function answers more than ${var.error_rate_threshold * 100} % of its requests with 5xx for ${var.error_rate_window}. Task and push handlers are retried (then dead-lettered): read the function's ERROR lines in Cloud Logging."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "api_latency" {
  project               = var.project_id
  display_name          = "Control Tower: API p95 latency above ${var.api_latency_p95_ms} ms"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "tower-api request latency, 95th percentile"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.api_service}\" AND metric.type=\"run.googleapis.com/request_latencies\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.api_latency_p95_ms
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    content   = "The API's 95th-percentile latency has been above ${var.api_latency_p95_ms} ms for 5 minutes (cold starts, slow BigQuery reads, or Claude on /ask)."
    mime_type = "text/markdown"
  }
}

# A brand and platform whose successful-sync series stops for freshness_hours is stale. An absence
# condition only knows series that existed: a brand that has never synced cannot alert here (the
# dashboard's per-platform sync count shows it), and a brand disconnected on purpose alerts once.
resource "google_monitoring_alert_policy" "data_freshness" {
  project               = var.project_id
  display_name          = "Control Tower: no successful sync for ${var.freshness_hours} h (per brand and platform)"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "tower_sync_succeeded absent"
    condition_absent {
      filter   = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metrics}/${google_logging_metric.sync_succeeded.name}\""
      duration = "${var.freshness_hours * 3600}s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.brand_id", "metric.label.platform"]
      }
    }
  }

  documentation {
    content   = "A brand's platform has not synced successfully for ${var.freshness_hours} hours. Look for its \"sync finished\" lines with another status, or dead tasks; the runbook's backfill re-reads the gap."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "dead_letters" {
  project               = var.project_id
  display_name          = "Control Tower: dead letters waiting"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "messages in a -dlq-hold subscription"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=ends_with(\"-dlq-hold\") AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.label.subscription_id"]
      }
    }
  }

  documentation {
    content   = "An event failed every delivery and waits in its -dlq-hold subscription (7 days). README, runbook: replay dead letters."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "ai_spend" {
  project               = var.project_id
  display_name          = "Control Tower: Claude spend above ${var.ai_daily_budget_usd} USD a day"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "sum of tower_ai_cost_usd over 24 h"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metrics}/${google_logging_metric.ai_cost_usd.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.ai_daily_budget_usd
      duration        = "0s"
      aggregations {
        alignment_period     = "86400s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content   = "Claude calls cost more than ${var.ai_daily_budget_usd} USD over the last 24 hours. `tower ai usage` breaks it down by brand and month (ai_usage table); lower the call volume or raise ai_daily_budget_usd."
    mime_type = "text/markdown"
  }
}

# --- dashboard and budget ----------------------------------------------------------------------------

resource "google_monitoring_dashboard" "tower" {
  project        = var.project_id
  dashboard_json = file("${path.module}/dashboard.json")
}

resource "google_billing_budget" "project" {
  count = var.billing_account == "" ? 0 : 1

  billing_account = var.billing_account
  display_name    = "Control Tower (${var.project_id})"

  budget_filter {
    projects = ["projects/${var.project_number}"]
  }

  amount {
    specified_amount {
      units = tostring(var.monthly_budget)
    }
  }

  threshold_rules {
    threshold_percent = 0.5
  }
  threshold_rules {
    threshold_percent = 0.9
  }
  threshold_rules {
    threshold_percent = 1.0
  }
  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }

  all_updates_rule {
    monitoring_notification_channels = local.channels
    disable_default_iam_recipients   = false
  }
}
