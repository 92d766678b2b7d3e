# Control Tower on GCP: the data stores, the event plumbing, the identities and the functions.
#
# Every name the code uses is declared once, in the locals below, and must equal the code's own lists:
#   topics, subscriptions, queues, secrets  <->  shared/tower/names.py
#   functions (entry point -> trigger)      <->  shared/tower/wiring.py
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

  # Push subscriptions (wiring.subscriptions()): subscription -> topic and the entry point it delivers to.
  subscriptions = {
    "build-models" = { topic = "tower-sync-completed", entry_point = "build_models" }
    "recommend"    = { topic = "tower-models-built", entry_point = "recommend" }
    "summarize"    = { topic = "tower-models-built", entry_point = "summarize" }
    "notify"       = { topic = "tower-alerts-raised", entry_point = "notify" }
  }

  # Cloud Tasks queues (names.QUEUES). Syncs are paced below the ad platforms' and Shopify's own rate
  # limits across all brands; budget changes go one at a time so two Accepts never race on a campaign.
  # Cloud Tasks retries every non-2xx answer, so a task that can never succeed (a PipelineError: bad
  # payload, unknown brand) is answered 200 with {"ok": false, "retry": false} and an ERROR log line
  # (functions/_http.py), never 4xx: only failures worth retrying use up max_attempts.
  queues = {
    "tower-sync" = {
      max_dispatches_per_second = 5
      max_concurrent_dispatches = 50
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
    "google-ads-client-secret",
    "customer-hash-salt",
    "notify-smtp-password",
    "notify-slack-bot-token",
    "notify-slack-signing-secret",
    "notify-link-key",
  ]

  # Per-brand secrets the runtime creates at connect time (names.RUNTIME_SECRET_PREFIXES): integration
  # tokens (names.INTEGRATION_SECRET_PREFIX) and customer-hash salts (names.CUSTOMER_SALT_SECRET_PREFIX).
  integration_secret_prefix   = "integration-"
  customer_salt_secret_prefix = "customer-hash-salt-"

  # One 2nd-gen function per entry point (wiring.ENTRY_POINTS); name = names.function_name().
  # Pub/Sub and task handlers time out at 540 s, under the 600 s push ack deadline and the default
  # Cloud Tasks dispatch deadline, so a slow run is retried rather than acknowledged twice.
  #
  # Sizing for the hourly round (bench/scale.py measures the handlers on the sandbox and simulates
  # this sizing): N brands x up to 4 platforms = 4N sync tasks, dispatched at <= 5/s and <= 50 at once
  # by tower-sync (1,000 brands: 4,000 tasks, at least 13 min of dispatch). Each sync function may run
  # 50 instances, the queue's whole concurrency, so Cloud Run never answers Cloud Tasks 429 for lack of
  # an instance. Every finished sync publishes one tower-sync-completed, hence one build_models, one
  # recommend and one summarize per brand and platform; with ~1 s a BigQuery statement a build takes
  # ~20 s and a summary ~15 s, so the push handlers get 80 / 60 / 60 instances (summarize at 30 was the
  # bottleneck of the simulated round: 40 min and 10,000 throttled pushes). A push that finds every
  # instance busy is a 429, which Pub/Sub counts as a failed delivery: the subscriptions allow 15
  # attempts over ~1.7 h (pubsub module), so a burst is retried, never dead-lettered.
  # Concurrency stays 1 for the pipeline's handlers: each holds a warehouse connection and large
  # frames in memory; the API and webhooks are short requests and share instances.
  #
  # access: what the function's own service account may do (iam module; least privilege, one account
  # per function). "warehouse" = read and write the dataset and run BigQuery jobs; "store" = Firestore
  # documents; "queue:Q" = create tasks on Q (and sign them as the tasks account); "topic:T" = publish
  # to T; "secret:S" = read the declared secret S; "brand-secrets:read" = read the per-brand secrets
  # (integration tokens, customer-hash salts), "brand-secrets:manage" = also create, version, rotate
  # and delete them. tests/unit/infra/test_permissions.py derives each function's list from the code
  # its handler can reach and fails on anything missing or more.
  functions = {
    api                 = { name = "tower-api", trigger = "http", memory = "1Gi", cpu = "1", timeout_seconds = 300, max_instances = 20, concurrency = 20, access = ["warehouse", "store", "queue:tower-budget-changes", "secret:anthropic-api-key", "secret:google-ads-developer-token", "secret:notify-link-key", "secret:notify-slack-bot-token", "secret:notify-slack-signing-secret", "secret:notify-smtp-password", "secret:shopify-api-secret", "queue:tower-sync", "secret:google-ads-client-secret", "secret:meta-app-secret", "secret:tiktok-app-secret", "brand-secrets:manage"] }
    shopify_webhooks    = { name = "tower-shopify-webhooks", trigger = "http", memory = "512Mi", cpu = "1", timeout_seconds = 60, max_instances = 20, concurrency = 10, access = ["warehouse", "store", "secret:shopify-api-secret", "secret:google-ads-developer-token", "secret:google-ads-client-secret", "brand-secrets:manage"] }
    schedule_syncs      = { name = "tower-schedule-syncs", trigger = "schedule", memory = "512Mi", cpu = "1", timeout_seconds = 540, max_instances = 1, concurrency = 1, access = ["warehouse", "queue:tower-sync"] }
    sync_fx             = { name = "tower-sync-fx", trigger = "schedule", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 1, concurrency = 1, access = ["warehouse", "store", "topic:tower-sync-completed"] }
    sync_shopify        = { name = "tower-sync-shopify", trigger = "queue:tower-sync", memory = "2Gi", cpu = "1", timeout_seconds = 540, max_instances = 50, concurrency = 1, access = ["warehouse", "store", "queue:tower-sync", "topic:tower-sync-completed", "secret:shopify-api-secret", "secret:google-ads-developer-token", "secret:google-ads-client-secret", "brand-secrets:manage"] }
    sync_meta           = { name = "tower-sync-meta", trigger = "queue:tower-sync", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 50, concurrency = 1, access = ["warehouse", "store", "queue:tower-sync", "topic:tower-sync-completed", "secret:shopify-api-secret", "secret:google-ads-developer-token", "secret:google-ads-client-secret", "brand-secrets:manage"] }
    sync_tiktok         = { name = "tower-sync-tiktok", trigger = "queue:tower-sync", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 50, concurrency = 1, access = ["warehouse", "store", "queue:tower-sync", "topic:tower-sync-completed", "secret:shopify-api-secret", "secret:google-ads-developer-token", "secret:google-ads-client-secret", "brand-secrets:manage"] }
    sync_google_ads     = { name = "tower-sync-google-ads", trigger = "queue:tower-sync", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 50, concurrency = 1, access = ["warehouse", "store", "queue:tower-sync", "topic:tower-sync-completed", "secret:shopify-api-secret", "secret:google-ads-developer-token", "secret:google-ads-client-secret", "brand-secrets:manage"] }
    build_models        = { name = "tower-build-models", trigger = "topic:tower-sync-completed", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 80, concurrency = 1, access = ["warehouse", "store", "topic:tower-models-built"] }
    recommend           = { name = "tower-recommend", trigger = "topic:tower-models-built", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 60, concurrency = 1, access = ["warehouse", "store", "topic:tower-alerts-raised"] }
    summarize           = { name = "tower-summarize", trigger = "topic:tower-models-built", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 60, concurrency = 1, access = ["warehouse", "store", "topic:tower-alerts-raised", "secret:anthropic-api-key"] }
    apply_budget_change = { name = "tower-apply-budget-change", trigger = "queue:tower-budget-changes", memory = "512Mi", cpu = "1", timeout_seconds = 300, max_instances = 2, concurrency = 1, access = ["warehouse", "store", "queue:tower-budget-changes", "secret:shopify-api-secret", "secret:google-ads-developer-token", "secret:google-ads-client-secret", "brand-secrets:manage"] }
    notify              = { name = "tower-notify", trigger = "topic:tower-alerts-raised", memory = "512Mi", cpu = "1", timeout_seconds = 300, max_instances = 10, concurrency = 1, access = ["warehouse", "store", "secret:notify-link-key", "secret:notify-slack-bot-token", "secret:notify-slack-signing-secret", "secret:notify-smtp-password", "brand-secrets:manage"] }
    send_digests        = { name = "tower-send-digests", trigger = "schedule", memory = "1Gi", cpu = "1", timeout_seconds = 540, max_instances = 1, concurrency = 1, access = ["warehouse", "store", "queue:tower-budget-changes", "secret:anthropic-api-key", "secret:shopify-api-secret", "secret:google-ads-developer-token", "secret:notify-link-key", "secret:notify-slack-bot-token", "secret:notify-slack-signing-secret", "secret:notify-smtp-password", "secret:google-ads-client-secret", "brand-secrets:manage"] }
  }

  # Which functions get a run.invoker binding. With http_public_access = "invoker_check_disabled" the
  # two public functions get none (an organisation's domain-restricted-sharing policy refuses
  # allUsers); cloudbuild.yaml then turns off their Cloud Run invoker check instead (README, runbook).
  internal_functions = { for ep, f in local.functions : ep => f if f.trigger != "http" }
  invoked_functions  = var.http_public_access == "allUsers" ? local.functions : local.internal_functions

  # Each function's access, as the grants of the modules that own the resources: the member is the
  # function's own account (iam module). Keys are entry points (and "entry point/target"), known at
  # plan time, while the accounts' e-mails are not.
  function_members = { for ep, f in local.functions : ep => "serviceAccount:${module.iam.function_emails[ep]}" }
  access_grants = { for kind in ["queue", "topic", "secret"] : kind => {
    for g in flatten([for ep, f in local.functions : [for a in f.access : { ep = ep, target = trimprefix(a, "${kind}:") } if startswith(a, "${kind}:")]]) :
    "${g.ep}/${g.target}" => { target = g.target, member = local.function_members[g.ep] }
  } }
  warehouse_members = { for ep, f in local.functions : ep => local.function_members[ep] if contains(f.access, "warehouse") }

  # Cloud Scheduler jobs for the entry points triggered by "schedule".
  schedules = {
    "tower-schedule-syncs" = { entry_point = "schedule_syncs", schedule = var.sync_schedule, description = "Hourly: one sync task per brand and platform." }
    # wiring.FX_SCHEDULE: after the ECB publishes the day's euro reference rates (~16:00 CET).
    "tower-sync-fx" = { entry_point = "sync_fx", schedule = "0 17 * * *", description = "Daily: the ECB's exchange rates; missing-rate warnings on the brands." }
    # wiring.DIGEST_SCHEDULE: Monday in every brand's time zone from UTC-10 to UTC+10, last week complete.
    "tower-send-digests" = { entry_point = "send_digests", schedule = "0 13 * * 1", description = "Weekly: each agency's digest by e-mail and Slack." }
  }

  # The adapter URLs of shared/tower/config.py: the same code, pointed at GCP instead of the embedded default.
  function_env = {
    TOWER_WAREHOUSE = "bigquery://${var.project_id}/${module.bigquery.dataset_id}"
    TOWER_STORE     = "firestore://${var.project_id}"
    TOWER_BUS       = "pubsub://${var.project_id}"
    TOWER_TASKS     = "cloudtasks://${var.project_id}/${var.region}"
    TOWER_SECRETS   = "secretmanager://${var.project_id}"
    # Base URL of the task handlers; names.function_url() appends "/<function name>".
    TOWER_TASKS_TARGET_URL      = "https://${var.region}-${var.project_id}.cloudfunctions.net"
    TOWER_TASKS_SERVICE_ACCOUNT = module.iam.tasks_invoker_email
    # Installing from Shopify: the app's client id (its secret is the shopify-api-secret secret), the
    # API's address Shopify sends merchants back to (<it>/shopify/callback, shopify.app.toml's
    # redirect URL) and the webhook function each install subscribes the store to.
    TOWER_SHOPIFY_CLIENT_ID   = var.shopify_client_id
    TOWER_SHOPIFY_APP_URL     = "https://${var.region}-${var.project_id}.cloudfunctions.net/tower-api"
    TOWER_SHOPIFY_WEBHOOK_URL = "https://${var.region}-${var.project_id}.cloudfunctions.net/tower-shopify-webhooks"
    # Signing in by e-mail: Identity Platform in this project (the ID tokens' audience and issuer), and
    # its public Web API key the page's sign-in calls name (it grants nothing by itself).
    TOWER_FIREBASE_PROJECT_ID  = var.project_id
    TOWER_FIREBASE_WEB_API_KEY = var.firebase_web_api_key
    # Google's front end appends the caller's address to X-Forwarded-For: the API's failed-login
    # limit counts per caller, not per front end.
    TOWER_API_TRUSTED_PROXIES = "1"
    # The only writable folder of a Cloud Run instance (in memory): Shopify bulk scratch files
    # (0600, emptied after each block is parsed) and DuckDB's spill files go under it.
    TOWER_DATA_DIR = "/tmp/tower"
    # The merchant page the api function serves: Cloud Functions unpacks the source zip into /workspace,
    # and infra/package_source.py puts the built page at web/dist of the zip.
    TOWER_PAGE_DIR = "/workspace/web/dist"
    # Log lines name their request's trace as projects/<project>/traces/<id> (tower.logs), so Cloud
    # Logging groups a request's lines; the runtime does not set the project itself.
    GOOGLE_CLOUD_PROJECT = var.project_id
  }

  # Who may invoke a function, by trigger kind. The API and Shopify's webhooks are public because
  # browsers and Shopify cannot present Google ID tokens: they authenticate requests themselves
  # (API keys / sessions; the X-Shopify-Hmac-Sha256 signature). Everything else accepts only the
  # identity that calls it. (http is only bound when var.http_public_access is "allUsers".)
  invoker_members = {
    http     = "allUsers"
    topic    = "serviceAccount:${module.iam.push_invoker_email}"
    queue    = "serviceAccount:${module.iam.tasks_invoker_email}"
    schedule = "serviceAccount:${module.iam.scheduler_email}"
  }

  apis = [
    "artifactregistry.googleapis.com",
    "billingbudgets.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
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

  project_id                  = var.project_id
  project_number              = data.google_project.this.number
  functions                   = local.functions
  integration_secret_prefix   = local.integration_secret_prefix
  customer_salt_secret_prefix = local.customer_salt_secret_prefix

  depends_on = [google_project_service.enabled]
}

module "bigquery" {
  source = "./infra/modules/bigquery"

  project_id          = var.project_id
  dataset_id          = var.dataset_id
  location            = var.bigquery_location
  editor_members      = local.warehouse_members
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [google_project_service.enabled]
}

module "firestore" {
  source = "./infra/modules/firestore"

  project_id        = var.project_id
  location          = var.firestore_location
  delete_protection = var.deletion_protection
  create_database   = var.create_firestore_database

  depends_on = [google_project_service.enabled]
}

module "secrets" {
  source = "./infra/modules/secrets"

  project_id = var.project_id
  secrets    = local.secrets
  accessors  = local.access_grants.secret
  labels     = local.labels

  depends_on = [google_project_service.enabled]
}

module "tasks" {
  source = "./infra/modules/tasks"

  project_id = var.project_id
  region     = var.region
  queues     = local.queues
  enqueuers  = local.access_grants.queue

  depends_on = [google_project_service.enabled]
}

module "functions" {
  source = "./infra/modules/functions"

  project_id               = var.project_id
  region                   = var.region
  functions                = local.functions
  environment              = local.function_env
  invoker_members          = local.invoker_members
  invoked_functions        = local.invoked_functions
  source_archive           = var.source_archive
  service_account_emails   = module.iam.function_emails
  build_service_account_id = module.iam.builder_id
  labels                   = local.labels

  # The functions start serving as soon as they deploy: let the stores they read exist first. The
  # whole iam module, not just the e-mails read above: the build account's role grant and the new
  # accounts must have propagated (its time_sleep) before eleven builds start at once.
  depends_on = [
    google_project_service.enabled,
    module.iam,
    module.bigquery,
    module.firestore,
    module.secrets,
    module.tasks,
  ]
}

module "pubsub" {
  source = "./infra/modules/pubsub"

  project_id                 = var.project_id
  topics                     = local.topics
  subscriptions              = local.subscriptions
  push_endpoints             = module.functions.uris
  push_service_account_email = module.iam.push_invoker_email
  push_service_account_id    = module.iam.push_invoker_id
  publishers                 = local.access_grants.topic
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

module "monitoring" {
  source = "./infra/modules/monitoring"

  project_id          = var.project_id
  project_number      = data.google_project.this.number
  api_uri             = module.functions.uris["api"]
  alert_emails        = var.alert_emails
  ai_daily_budget_usd = var.ai_daily_budget_usd
  billing_account     = var.billing_account
  monthly_budget      = var.monthly_budget

  depends_on = [google_project_service.enabled]
}
