output "dataset_id" {
  description = "The warehouse dataset."
  value       = google_bigquery_dataset.tower.dataset_id
}

output "table_ids" {
  description = "Every table created from the DDL."
  value       = sort([for t in google_bigquery_table.table : t.table_id])
}
