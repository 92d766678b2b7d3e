variable "project_id" {
  description = "Project of the topics and subscriptions."
  type        = string
}

variable "topics" {
  description = "Topic names (names.TOPICS); each gets a dead-letter topic <topic>-dlq."
  type        = list(string)
}

variable "subscriptions" {
  description = "Subscription name -> topic and the entry point it pushes to (tower.wiring.subscriptions())."
  type = map(object({
    topic       = string
    entry_point = string
  }))
}

variable "push_endpoints" {
  description = "Entry point -> HTTPS URL of its function."
  type        = map(string)
}

variable "push_service_account_email" {
  description = "Service account Pub/Sub signs push requests with (run.invoker on the event handlers)."
  type        = string
}

variable "push_service_account_id" {
  description = "Resource name of that service account."
  type        = string
}

variable "publishers" {
  description = "\"entry point/topic\" -> the topic (target) and the IAM member (its function's account) that publishes to it."
  type        = map(object({ target = string, member = string }))
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message before it is moved to the dead-letter topic (5-100); 429s count."
  type        = number
  default     = 15
}

variable "ack_deadline_seconds" {
  description = "Push ack deadline: how long a handler may run before Pub/Sub redelivers (max 600)."
  type        = number
  default     = 600
}

variable "labels" {
  description = "Labels on topics and subscriptions."
  type        = map(string)
  default     = {}
}

variable "propagation_delay" {
  description = "Pause between creating the Pub/Sub service agent and granting it roles (IAM is eventually consistent)."
  type        = string
  default     = "30s"
}
