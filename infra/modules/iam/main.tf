# Identities, one per role in the pipeline, each with only what that role does:
#   function  - one account per function (tower-fn-<name>), each granted only what its code calls
#               (var.functions[*].access, checked against the code by tests/unit/infra/test_permissions.py):
#               here the project-wide roles (BigQuery jobs, Firestore) and the per-brand secrets; the
#               grants on single resources (dataset, topics, queues, declared secrets) in the module
#               that owns the resource, from the same access lists (main.tf).
#   tasks     - Cloud Tasks signs its calls to the task handlers with it (run.invoker on those only).
#   scheduler - Cloud Scheduler signs its calls to the scheduled functions with it.
#   push      - Pub/Sub signs its push deliveries to the event handlers with it.
#   builder   - Cloud Build builds the functions' containers as it.

# "tower-api" runs as "tower-fn-api@...". An account id has at most 30 characters (variables.tf checks).
resource "google_service_account" "function" {
  for_each = var.functions

  project      = var.project_id
  account_id   = "tower-fn-${trimprefix(each.value.name, "tower-")}"
  display_name = "Control Tower ${each.key} function"
  description  = "Runs ${each.value.name}; may: ${join(", ", each.value.access)}."
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
  members = { for ep, sa in google_service_account.function : ep => "serviceAccount:${sa.email}" }

  # BigQuery jobs (queries, loads, MERGE) are billed to and created in the project: jobUser has no
  # narrower scope. Data access itself is dataEditor on the one dataset (bigquery module).
  # Firestore has no finer IAM than the project for the (default) database.
  project_roles = { warehouse = "roles/bigquery.jobUser", store = "roles/datastore.user" }
  project_grants = { for g in flatten([for ep, f in var.functions : [for a in f.access : { ep = ep, access = a } if contains(keys(local.project_roles), a)]]) :
    "${g.ep}/${g.access}" => { member = local.members[g.ep], role = local.project_roles[g.access] }
  }

  brand_secret_managers = { for ep, f in var.functions : ep => local.members[ep] if contains(f.access, "brand-secrets:manage") }
  brand_secret_roles = { for ep, f in var.functions : ep => {
    member = local.members[ep]
    role   = contains(f.access, "brand-secrets:manage") ? google_project_iam_custom_role.runtime_secrets.name : google_project_iam_custom_role.brand_secrets_reader.name
  } if contains(f.access, "brand-secrets:manage") || contains(f.access, "brand-secrets:read") }
  enqueuers = { for ep, f in var.functions : ep => local.members[ep] if length([for a in f.access : a if startswith(a, "queue:")]) > 0 }

  # Secret Manager names secrets by project NUMBER in IAM conditions, and version calls are checked on
  # ".../secrets/ID/versions/N", which the same prefixes match.
  brand_secrets_condition = "resource.name.startsWith(\"projects/${var.project_number}/secrets/${var.integration_secret_prefix}\") || resource.name.startsWith(\"projects/${var.project_number}/secrets/${var.customer_salt_secret_prefix}\")"
}

resource "google_project_iam_member" "function" {
  for_each = local.project_grants

  project = var.project_id
  role    = each.value.role
  member  = each.value.member
}

# Connecting a brand stores its token as a new secret "integration-<brand>-<platform>[-<account>]" and
# its customer-hash salt as "customer-hash-salt-<brand>"; syncs and webhooks read both, rotation
# disables old versions, and a shop/redact deletes both. Two custom roles, each bound under a condition
# on the secret's resource name: reading, for functions that only read them, and managing (version,
# rotate, delete), for those whose code also writes them. The deployment's own secrets (secrets module)
# are read through secretAccessor on each of them, which is all exists() and get() need.
resource "google_project_iam_custom_role" "brand_secrets_reader" {
  project     = var.project_id
  role_id     = "towerBrandSecretsReader"
  title       = "Control Tower per-brand secrets, read"
  description = "Read the per-brand secrets (integration tokens, customer-hash salts)."
  permissions = ["secretmanager.versions.access"]
}

resource "google_project_iam_custom_role" "runtime_secrets" {
  project     = var.project_id
  role_id     = "towerRuntimeSecrets"
  title       = "Control Tower per-brand secrets, manage"
  description = "Version, read, rotate and delete the per-brand secrets (integration tokens, customer-hash salts)."
  permissions = [
    "secretmanager.secrets.delete",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.disable",
    "secretmanager.versions.list",
  ]
}

# A function that manages them gets the managing role only (it reads too).
resource "google_project_iam_member" "brand_secrets" {
  for_each = local.brand_secret_roles

  project = var.project_id
  role    = each.value.role
  member  = each.value.member

  condition {
    title       = "per-brand-secrets-only"
    description = "Only secrets named ${var.integration_secret_prefix}* or ${var.customer_salt_secret_prefix}*"
    expression  = local.brand_secrets_condition
  }
}

# CreateSecret is authorised on the parent project, not on the secret to be: a condition on the
# secret's name never matches it. So creation is a role of its own, granted on the project without
# a condition, to the functions that manage the per-brand secrets. What it allows is an empty secret of
# any name; adding a version to it, reading it or deleting it still needs the conditional role above,
# so a secret outside the prefixes stays useless.
resource "google_project_iam_custom_role" "secret_creator" {
  project     = var.project_id
  role_id     = "towerSecretCreator"
  title       = "Control Tower secret creation"
  description = "Create (empty) secrets; their versions are governed by towerRuntimeSecrets."
  permissions = ["secretmanager.secrets.create"]
}

resource "google_project_iam_member" "runtime_secret_creator" {
  for_each = local.brand_secret_managers

  project = var.project_id
  role    = google_project_iam_custom_role.secret_creator.name
  member  = each.value
}

# Creating a task whose OIDC token is signed as the tasks account requires actAs on that account
# (Cloud Tasks checks iam.serviceAccounts.actAs for the caller). Granted on that account only, to the
# functions that enqueue.
resource "google_service_account_iam_member" "runtime_acts_as_tasks" {
  for_each = local.enqueuers

  service_account_id = google_service_account.tasks.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
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
    google_project_iam_member.function,
    google_project_iam_member.brand_secrets,
    google_project_iam_member.runtime_secret_creator,
    google_project_iam_member.builder,
    google_service_account_iam_member.runtime_acts_as_tasks,
  ]
}
