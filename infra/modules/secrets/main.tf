# The deployment's own secrets, declared without any version: values never pass through Terraform
# (they would sit in its state in clear). An operator adds them once:
#   printf %s "$VALUE" | gcloud secrets versions add SECRET_ID --data-file=-
# Per-integration tokens are not declared here: the runtime creates them at connect time under
# the integration- and customer-hash-salt- prefixes (iam module).

resource "google_secret_manager_secret" "secret" {
  for_each = toset(var.secrets)

  project   = var.project_id
  secret_id = each.value
  labels    = var.labels

  replication {
    auto {}
  }
}

# Read access to a declared secret for each function whose code reads it, one binding per function and
# secret (no project-wide accessor role).
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = var.accessors

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.target].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
