# The document store: the project's (default) Firestore database in Native mode, which is what
# TOWER_STORE=firestore://PROJECT opens (brands/{id}/insights, recommendations, alerts, decisions;
# agencies; api_keys; processed_events).
#
# A project can hold only one (default) database and creating it again answers 409: where it already
# exists, set create_database = false (root variable create_firestore_database), or import it
# (the variable's description gives the command).

resource "google_firestore_database" "default" {
  count = var.create_database ? 1 : 0

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

# Shopify webhook deliveries are deduplicated by the processed_events/{webhook id} documents. Shopify
# retries a delivery for hours, not weeks: each document carries expires_at (processed_at plus the
# retention the webhook handler sets) and Firestore's TTL deletes it once passed, so the collection
# stops growing by one document per delivery for ever. TTL deletion runs within a day of expiry.
resource "google_firestore_field" "processed_events_ttl" {
  project    = var.project_id
  database   = "(default)"
  collection = var.ttl_collection
  field      = var.ttl_field

  ttl_config {}

  # An expiry timestamp is never queried: no single-field index to maintain for it.
  index_config {}

  depends_on = [google_firestore_database.default]
}

# An install's state nonce (shopify_oauth_states/{nonce}) is deleted by the callback that uses it; one
# whose merchant never came back carries expires_at (minutes after it was issued) and TTL deletes it.
resource "google_firestore_field" "shopify_oauth_states_ttl" {
  project    = var.project_id
  database   = "(default)"
  collection = "shopify_oauth_states"
  field      = "expires_at"

  ttl_config {}

  index_config {}

  depends_on = [google_firestore_database.default]
}
