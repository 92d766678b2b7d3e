output "database" {
  description = "Database name."
  value       = "(default)"
}

output "ttl_field" {
  description = "Collection group and field of the TTL policy, as collection/field."
  value       = "${google_firestore_field.processed_events_ttl.collection}/${google_firestore_field.processed_events_ttl.field}"
}
