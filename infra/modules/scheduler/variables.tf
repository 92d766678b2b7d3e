variable "project_id" {
  description = "Project of the jobs."
  type        = string
}

variable "region" {
  description = "Region of the jobs."
  type        = string
}

variable "time_zone" {
  description = "Time zone the crons are read in."
  type        = string
}

variable "jobs" {
  description = "Job name -> the entry point it calls, its cron and a description."
  type = map(object({
    entry_point = string
    schedule    = string
    description = string
  }))
}

variable "function_uris" {
  description = "Entry point -> HTTPS URL of its function."
  type        = map(string)
}

variable "invoker_email" {
  description = "Service account the jobs sign their calls with."
  type        = string
}
