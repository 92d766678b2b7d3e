variable "project_id" {
  description = "Project of the queues."
  type        = string
}

variable "region" {
  description = "Queue location (TOWER_TASKS=cloudtasks://PROJECT/REGION)."
  type        = string
}

variable "queues" {
  description = "Queue name -> dispatch rate and retry policy."
  type = map(object({
    max_dispatches_per_second = number
    max_concurrent_dispatches = number
    max_attempts              = number
    min_backoff               = string
    max_backoff               = string
    max_doublings             = number
    max_retry_duration        = string
  }))
}

variable "enqueuers" {
  description = "\"entry point/queue\" -> the queue (target) and the IAM member (its function's account) that creates tasks on it."
  type        = map(object({ target = string, member = string }))
}
