# Control Tower on GCP: the data stores, the event plumbing, the identities and the functions.
#
# Every name the code uses is declared once, in the locals below, and must equal the code's own lists:
#   topics, subscriptions, queues, secrets  <->  shared/tower/names.py
#   functions (entry point -> trigger)      <->  shared/tower/entrypoints.py
#   BigQuery tables                         <->  shared/tower/sql/schema/*.sql (via infra/gen_schema.py)
# tests/unit/infra/test_terraform.py parses this configuration and fails when any of them drift.

locals {
  labels = { app = "control-tower" }

  # Pub/Sub topics (names.TOPICS); the pubsub module adds "<topic>-dlq" for each.
  topics = [
    "tower-sync-completed",
    "tower-models-built",
    "tower-alerts-raised",
    "tower-shopify-events",
  ]

  # Push subscriptions (names.SUBSCRIPTIONS): subscription -> topic and the entry point it delivers to.
  subscriptions = {
    "build-models" = { topic = "tower-sync-completed", entry_point = "build_models" }
    "recommend"    = { topic = "tower-models-built", entry_point = "recommend" }
    "summarize"    = { topic = "tower-models-built", entry_point = "summarize" }
  }

  # Cloud Tasks queues (names.QUEUES). Syncs are paced below the ad platforms' and Shopify's own rate
  # limits across all brands; budget changes go one at a time so two Accepts never race on a campaign.
  queues = {
    "tower-sync" = {
      max_dispatches_per_second = 5
      max_concurrent_dispatches = 20
      max_attempts              = 10
      min_backoff               = "30s"
      max_backoff               = "1800s"
      max_doublings             = 5
      max_retry_duration        = "21600s"
    }
    "tower-budget-changes" = {
      max_dispatches_per_second = 1
      max_concurrent_dispatches = 1
      max_attempts              = 5
      min_backoff               = "10s"
      max_backoff               = "300s"
      max_doublings             = 3
      max_retry_duration        = "3600s"
    }
  }

  # Secret Manager secrets (names.SECRETS), declared without values: an operator adds the versions.
  secrets = [
    "shopify-api-secret",
    "anthropic-api-key",
    "meta-app-secret",
    "tiktok-app-secret",
    "google-ads-developer-token",
    "customer-hash-salt",
  ]

  # Per-integration tokens are created at connect time (names.INTEGRATION_SECRET_PREFIX).
  integration_secret_prefix = "integration-"

  # One 2nd-gen function per entry point (entrypoints.ENTRY_POINTS); name = entrypoints.function_name().
  # Pub/Sub and task handlers time out at 540 s, under the 600 s push ack deadline and the default
  # Cloud Tasks dispatch deadline, so a slow run is retried rather than acknowledged twice.
  functions = {
    api                 = { name = "tower-api", trigger = "http", memory = "1Gi", cpu = "1", timeout_seconds = 300, max_instances = 20, concurrency = 20 }
    shopify_webhooks    = { name = "tower-shopify-webhooks", trigger = "http", memory = "512Mi", cpu = "1", timeout_seconds = 60, max_instances = 20, concurrency = 10 }
    schedule_syncs      = { name = "tower-schedule-syncs", trigger = "schedule", memory = "512Mi", cpu = "1", timeout_seconds = 300, max_instances = 1, concurrency = 1 }
    sync_shopify        = { name = "tower-sync-shopify", trigger = "queue:tower-sync", memory = "2Gi", cpu = "1", timeout_seconds = 540, max_instances = 10, concurrency = 1 }
    sync_meta           = { name = "tower-sync-meta", trigger = "queue:tower-sync", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 10, concurrency = 1 }
    sync_tiktok         = { name = "tower-sync-tiktok", trigger = "queue:tower-sync", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 10, concurrency = 1 }
    sync_google_ads     = { name = "tower-sync-google-ads", trigger = "queue:tower-sync", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 10, concurrency = 1 }
    build_models        = { name = "tower-build-models", trigger = "topic:tower-sync-completed", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 5, concurrency = 1 }
    recommend           = { name = "tower-recommend", trigger = "topic:tower-models-built", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 5, concurrency = 1 }
    summarize           = { name = "tower-summarize", trigger = "topic:tower-models-built", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 5, concurrency = 1 }
    apply_budget_change = { name = "tower-apply-budget-change", trigger = "queue:tower-budget-changes", memory = "512Mi", cpu = "1", timeout_seconds = 300, max_instances = 2, concurrency = 1 }
  }

  # Cloud Scheduler jobs for the entry points triggered by "schedule".
  schedules = {
    "tower-schedule-syncs" = { entry_point = "schedule_syncs", schedule = var.sync_schedule, description = "Hourly: one sync task per brand and platform." }
  }

  # The adapter URLs of shared/tower/config.py: the same code, pointed at GCP instead of the embedded default.
  function_env = {
    TOWER_WAREHOUSE = "bigquery://${var.project_id}/${module.bigquery.dataset_id}"
    TOWER_STORE     = "firestore://${var.project_id}"
    TOWER_BUS       = "pubsub://${var.project_id}"
    TOWER_TASKS     = "cloudtasks://${var.project_id}/${var.region}"
    TOWER_SECRETS   = "secretmanager://${var.project_id}"
    # Base URL of the task handlers; entrypoints.task_url() appends "/<function name>".
    TOWER_TASKS_TARGET_URL      = "https://${var.region}-${var.project_id}.cloudfunctions.net"
    TOWER_TASKS_SERVICE_ACCOUNT = module.iam.tasks_invoker_email
    # Google's front end appends the caller's address to X-Forwarded-For: the API's failed-login
    # limit counts per caller, not per front end.
    TOWER_API_TRUSTED_PROXIES = "1"
    # The only writable folder of a Cloud Run instance (in memory): Shopify bulk scratch files
    # (0600, emptied after each block is parsed) and DuckDB's spill files go under it.
    TOWER_DATA_DIR = "/tmp/tower"
  }

  # Who may invoke a function, by trigger kind. The API and Shopify's webhooks are public because
  # browsers and Shopify cannot present Google ID tokens: they authenticate requests themselves
  # (API keys / sessions; the X-Shopify-Hmac-Sha256 signature). Everything else accepts only the
  # identity that calls it.
  invoker_members = {
    http     = "allUsers"
    topic    = "serviceAccount:${module.iam.push_invoker_email}"
    queue    = "serviceAccount:${module.iam.tasks_invoker_email}"
    schedule = "serviceAccount:${module.iam.scheduler_email}"
  }

  apis = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_project_service" "enabled" {
  for_each = toset(local.apis)

  project = var.project_id
  service = each.value
  # Turning an API off on destroy would break anything else in the project that uses it.
  disable_on_destroy = false
}

module "iam" {
  source = "./infra/modules/iam"

  project_id                = var.project_id
  project_number            = data.google_project.this.number
  integration_secret_prefix = local.integration_secret_prefix

  depends_on = [google_project_service.enabled]
}

module "bigquery" {
  source = "./infra/modules/bigquery"

  project_id          = var.project_id
  dataset_id          = var.dataset_id
  location            = var.bigquery_location
  editor_member       = module.iam.runtime_member
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [google_project_service.enabled]
}

module "firestore" {
  source = "./infra/modules/firestore"

  project_id        = var.project_id
  location          = var.firestore_location
  delete_protection = var.deletion_protection

  depends_on = [google_project_service.enabled]
}

module "secrets" {
  source = "./infra/modules/secrets"

  project_id      = var.project_id
  secrets         = local.secrets
  accessor_member = module.iam.runtime_member
  labels          = local.labels

  depends_on = [google_project_service.enabled]
}

module "tasks" {
  source = "./infra/modules/tasks"

  project_id      = var.project_id
  region          = var.region
  queues          = local.queues
  enqueuer_member = module.iam.runtime_member

  depends_on = [google_project_service.enabled]
}

module "functions" {
  source = "./infra/modules/functions"

  project_id                    = var.project_id
  region                        = var.region
  functions                     = local.functions
  environment                   = local.function_env
  invoker_members               = local.invoker_members
  source_archive                = var.source_archive
  runtime_service_account_email = module.iam.runtime_email
  build_service_account_id      = module.iam.builder_id
  labels                        = local.labels

  # The functions start serving as soon as they deploy: let the stores they read exist first.
  depends_on = [google_project_service.enabled, module.firestore, module.secrets, module.tasks]
}

module "pubsub" {
  source = "./infra/modules/pubsub"

  project_id                 = var.project_id
  project_number             = data.google_project.this.number
  topics                     = local.topics
  subscriptions              = local.subscriptions
  push_endpoints             = module.functions.uris
  push_service_account_email = module.iam.push_invoker_email
  push_service_account_id    = module.iam.push_invoker_id
  publisher_member           = module.iam.runtime_member
  labels                     = local.labels

  depends_on = [google_project_service.enabled]
}

module "scheduler" {
  source = "./infra/modules/scheduler"

  project_id    = var.project_id
  region        = var.region
  time_zone     = var.scheduler_time_zone
  jobs          = local.schedules
  function_uris = module.functions.uris
  invoker_email = module.iam.scheduler_email

  depends_on = [google_project_service.enabled]
}
