output "uris" {
  description = "Entry point -> the function's HTTPS (run.app) URL."
  value       = { for ep, f in google_cloudfunctions2_function.fn : ep => f.service_config[0].uri }
}

output "names" {
  description = "Entry point -> deployed function name."
  value       = { for ep, f in google_cloudfunctions2_function.fn : ep => f.name }
}
