# Identities, one per role in the pipeline, each with only what that role does:
#   runtime   - every function runs as it: reads/writes the warehouse and the store, publishes
#               events, enqueues tasks, reads the app secrets and manages integration-* tokens.
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

# Connecting a brand stores its token as a new secret "integration-<brand>-<platform>[-<account>]",
# so the runtime must create secrets, but only those: a custom role with the few Secret Manager
# permissions the Secrets port uses (put / get / rotate), bound under a condition on the secret's
# resource name. Secret Manager names secrets by project NUMBER in IAM conditions, and the name
# checked for a create is the new secret's, so the prefix bounds creation as well as access.
resource "google_project_iam_custom_role" "integration_secrets" {
  project     = var.project_id
  role_id     = "towerIntegrationSecrets"
  title       = "Control Tower integration secrets"
  description = "Create, version, read and retire the per-integration token secrets."
  permissions = [
    "secretmanager.secrets.create",
    "secretmanager.secrets.get",
    "secretmanager.versions.add",
    "secretmanager.versions.access",
    "secretmanager.versions.get",
    "secretmanager.versions.list",
    "secretmanager.versions.disable",
    "secretmanager.versions.destroy",
  ]
}

resource "google_project_iam_member" "runtime_integration_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.integration_secrets.name
  member  = local.runtime_member

  condition {
    title       = "integration-secrets-only"
    description = "Only secrets named ${var.integration_secret_prefix}*"
    expression  = "resource.name.startsWith(\"projects/${var.project_number}/secrets/${var.integration_secret_prefix}\")"
  }
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
  project = var.project_id
  role    = "roles/cloudbuild.builds.builder"
  member  = "serviceAccount:${google_service_account.builder.email}"
}
