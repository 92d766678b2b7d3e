output "queue_ids" {
  description = "Queue resource ids, by name."
  value       = { for name, q in google_cloud_tasks_queue.queue : name => q.id }
}
