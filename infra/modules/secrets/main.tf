# The deployment's own secrets, declared without any version: values never pass through Terraform
# (they would sit in its state in clear). An operator adds them once:
#   printf %s "$VALUE" | gcloud secrets versions add SECRET_ID --data-file=-
# Per-integration tokens are not declared here: the runtime creates them at connect time under
# the integration- prefix (iam module).

resource "google_secret_manager_secret" "secret" {
  for_each = toset(var.secrets)

  project   = var.project_id
  secret_id = each.value
  labels    = var.labels

  replication {
    auto {}
  }
}

# Read access to each declared secret, one binding per secret (no project-wide accessor role).
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = toset(var.secrets)

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = var.accessor_member
}
