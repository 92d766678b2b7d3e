output "uris" {
  description = "Entry point -> the function's HTTPS (run.app) URL."
  value       = { for ep, f in google_cloudfunctions2_function.fn : ep => f.service_config[0].uri }
}

output "names" {
  description = "Entry point -> deployed function name."
  value       = { for ep, f in google_cloudfunctions2_function.fn : ep => f.name }
}

output "source_url" {
  description = "gs:// URL of the source zip the functions run (a rollback redeploys a previous one)."
  value       = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
}
