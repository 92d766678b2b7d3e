# The document store: the project's (default) Firestore database in Native mode, which is what
# TOWER_STORE=firestore://PROJECT opens (brands/{id}/insights, recommendations, alerts, decisions;
# agencies; api_keys; processed_events).

resource "google_firestore_database" "default" {
  project     = var.project_id
  name        = "(default)"
  location_id = var.location
  type        = "FIRESTORE_NATIVE"

  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # Removing the resource from Terraform leaves the data in place; deleting it is a deliberate act.
  deletion_policy = "ABANDON"
}
