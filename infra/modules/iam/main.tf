# Identities, one per role in the pipeline, each with only what that role does:
#   runtime   - every function runs as it: reads/writes the warehouse and the store, publishes
#               events, enqueues tasks, reads the app secrets and manages the per-brand secrets
#               (integration-* tokens, customer-hash-salt-* salts).
#   tasks     - Cloud Tasks signs its calls to the task handlers with it (run.invoker on those only).
#   scheduler - Cloud Scheduler signs its calls to schedule_syncs with it.
#   push      - Pub/Sub signs its push deliveries to the event handlers with it.
#   builder   - Cloud Build builds the functions' containers as it.
# Grants on single resources (dataset, topics, queues, secrets, functions) live in the module that owns
# the resource; this module holds the service accounts and the project-wide grants.

resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "tower-runtime"
  display_name = "Control Tower functions runtime"
}

resource "google_service_account" "tasks" {
  project      = var.project_id
  account_id   = "tower-tasks"
  display_name = "Control Tower Cloud Tasks invoker"
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "tower-scheduler"
  display_name = "Control Tower Cloud Scheduler invoker"
}

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "tower-pubsub-push"
  display_name = "Control Tower Pub/Sub push invoker"
}

resource "google_service_account" "builder" {
  project      = var.project_id
  account_id   = "tower-builder"
  display_name = "Control Tower functions build"
}

locals {
  runtime_member = "serviceAccount:${google_service_account.runtime.email}"

  # BigQuery jobs (queries, loads, MERGE) are billed to and created in the project: jobUser has no
  # narrower scope. Data access itself is dataEditor on the one dataset (bigquery module).
  # Firestore has no finer IAM than the project for the (default) database.
  runtime_project_roles = [
    "roles/bigquery.jobUser",
    "roles/datastore.user",
  ]
}

resource "google_project_iam_member" "runtime" {
  for_each = toset(local.runtime_project_roles)

  project = var.project_id
  role    = each.value
  member  = local.runtime_member
}

# Connecting a brand stores its token as a new secret "integration-<brand>-<platform>[-<account>]" and
# its customer-hash salt as "customer-hash-salt-<brand>"; syncs and webhooks read both, rotation
# disables old versions, and a shop/redact deletes both. So the runtime holds a custom role with those
# Secret Manager permissions, bound under a condition on the secret's resource name: Secret Manager
# names secrets by project NUMBER in IAM conditions, and version calls are checked on
# ".../secrets/ID/versions/N", which the same prefixes match. The deployment's own secrets (secrets
# module) are read through secretAccessor on each of them, which is all exists() and get() need.
resource "google_project_iam_custom_role" "runtime_secrets" {
  project     = var.project_id
  role_id     = "towerRuntimeSecrets"
  title       = "Control Tower runtime secrets"
  description = "Version, read, rotate and delete the per-brand secrets (integration tokens, customer-hash salts)."
  permissions = [
    "secretmanager.secrets.delete",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.disable",
    "secretmanager.versions.list",
  ]
}

resource "google_project_iam_member" "runtime_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.runtime_secrets.name
  member  = local.runtime_member

  condition {
    title       = "per-brand-secrets-only"
    description = "Only secrets named ${var.integration_secret_prefix}* or ${var.customer_salt_secret_prefix}*"
    expression  = "resource.name.startsWith(\"projects/${var.project_number}/secrets/${var.integration_secret_prefix}\") || resource.name.startsWith(\"projects/${var.project_number}/secrets/${var.customer_salt_secret_prefix}\")"
  }
}

# CreateSecret is authorised on the parent project, not on the secret to be: a condition on the
# secret's name never matches it. So creation is a role of its own, granted on the project without
# a condition. What it allows is an empty secret of any name; adding a version to it, reading it or
# deleting it still needs the conditional role above, so a secret outside the prefixes stays useless.
resource "google_project_iam_custom_role" "secret_creator" {
  project     = var.project_id
  role_id     = "towerSecretCreator"
  title       = "Control Tower secret creation"
  description = "Create (empty) secrets; their versions are governed by towerRuntimeSecrets."
  permissions = ["secretmanager.secrets.create"]
}

resource "google_project_iam_member" "runtime_secret_creator" {
  project = var.project_id
  role    = google_project_iam_custom_role.secret_creator.name
  member  = local.runtime_member
}

# Creating a task whose OIDC token is signed as the tasks account requires actAs on that account
# (Cloud Tasks checks iam.serviceAccounts.actAs for the caller). Granted on that account only.
resource "google_service_account_iam_member" "runtime_acts_as_tasks" {
  service_account_id = google_service_account.tasks.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.runtime_member
}

# Google's documented role for a user-specified Cloud Functions build service account: write build
# logs, read the uploaded source, push the image to Artifact Registry.
resource "google_project_iam_member" "builder" {
  # checkov:skip=CKV_GCP_49:roles/cloudbuild.builds.builder is Google's documented role for a user-specified Cloud Functions build account; the account builds only, never runs code with the runtime's data access.
  project = var.project_id
  role    = "roles/cloudbuild.builds.builder"
  member  = "serviceAccount:${google_service_account.builder.email}"
}

# IAM is eventually consistent: a new service account or a fresh grant can take a minute to be seen
# everywhere, and eleven function builds started at once under a builder whose role has not arrived
# fail. Everything that depends on this module (main.tf: the functions) waits out this pause too.
resource "time_sleep" "propagation" {
  create_duration = var.propagation_delay

  depends_on = [
    google_project_iam_member.runtime,
    google_project_iam_member.runtime_secrets,
    google_project_iam_member.runtime_secret_creator,
    google_project_iam_member.builder,
    google_service_account_iam_member.runtime_acts_as_tasks,
  ]
}
