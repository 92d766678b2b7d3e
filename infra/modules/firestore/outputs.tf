output "database" {
  description = "Database name."
  value       = google_firestore_database.default.name
}
