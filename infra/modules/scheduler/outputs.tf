output "job_ids" {
  description = "Job ids, by name."
  value       = { for name, j in google_cloud_scheduler_job.job : name => j.id }
}
