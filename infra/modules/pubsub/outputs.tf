output "topic_ids" {
  description = "Topic ids, by name (dead-letter topics included)."
  value = merge(
    { for name, t in google_pubsub_topic.topic : name => t.id },
    { for name, t in google_pubsub_topic.dlq : t.name => t.id },
  )
}

output "dead_letter_subscriptions" {
  description = "Topic -> the pull subscription holding its dead letters."
  value       = { for name, s in google_pubsub_subscription.dead_letters : name => s.name }
}
