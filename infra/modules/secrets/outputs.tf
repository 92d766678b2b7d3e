output "secret_ids" {
  description = "Declared secret ids."
  value       = sort([for s in google_secret_manager_secret.secret : s.secret_id])
}
