# Events between the pipeline's stages, with a dead-letter topic for every topic.
#
# Design (why not the functions' own event triggers): a 2nd-gen function's Pub/Sub event_trigger
# makes Eventarc create and own the subscription, and neither google_cloudfunctions2_function nor
# google_eventarc_trigger can give that subscription a dead-letter policy
# (hashicorp/terraform-provider-google#25069, #17697). So each wiring.subscriptions() entry is an
# explicit push subscription here, to its function's HTTPS URL, authenticated with an OIDC token of
# the push service account, with:
#   * retry_policy: exponential backoff between redeliveries of a message the handler failed
#     (a handler raises -> HTTP 500 -> retried; returns -> 2xx -> acked);
#   * dead_letter_policy: after max_delivery_attempts the message moves to "<topic>-dlq". A 429
#     (every instance busy during the hourly burst) counts as a failed delivery too, so the default
#     15 attempts with 10 s..600 s backoff span ~1.7 h: a burst is retried, not dead-lettered;
#   * ack_deadline_seconds: 600, above the handlers' 540 s timeout.
# Each "<topic>-dlq" has a pull subscription "<topic>-dlq-hold" that keeps dead letters 7 days for
# inspection and replay (a topic without subscriptions would drop them). Pub/Sub moves a message to
# the dead-letter topic as its own service agent, which therefore publishes to the -dlq topics and
# subscribes (to ack the original) on the source subscriptions.

# The Pub/Sub service agent (service-NUMBER@gcp-sa-pubsub) is created lazily by Google, and on a fresh
# project it may not exist yet when the bindings below are applied ("does not exist"). Asking for the
# service identity creates it; the pause lets the new identity reach IAM before it is bound.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"
}

resource "time_sleep" "pubsub_agent" {
  create_duration = var.propagation_delay

  triggers = {
    agent = google_project_service_identity.pubsub.email
  }
}

locals {
  pubsub_agent = "serviceAccount:${time_sleep.pubsub_agent.triggers["agent"]}"
}

resource "google_pubsub_topic" "topic" {
  # checkov:skip=CKV_GCP_83:Messages carry ids and windows, never tokens or personal data; Google-managed encryption at rest, kept for at most 7 days.
  for_each = toset(var.topics)

  project = var.project_id
  name    = each.value
  labels  = var.labels
}

resource "google_pubsub_topic" "dlq" {
  # checkov:skip=CKV_GCP_83:Dead letters are copies of the topics' messages (ids and windows only); Google-managed encryption at rest.
  for_each = toset(var.topics)

  project = var.project_id
  name    = "${each.value}-dlq"
  labels  = var.labels
}

resource "google_pubsub_subscription" "push" {
  for_each = var.subscriptions

  project = var.project_id
  name    = each.key
  topic   = google_pubsub_topic.topic[each.value.topic].id
  labels  = var.labels

  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "604800s"

  # Never expire for inactivity: a quiet week must not delete the pipeline's wiring.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dlq[each.value.topic].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  push_config {
    # The /projects/P/topics/T path lets functions-framework name the topic in the CloudEvent's
    # source, as Eventarc would; the token's audience is the service URL itself.
    push_endpoint = "${var.push_endpoints[each.value.entry_point]}/projects/${var.project_id}/topics/${each.value.topic}"

    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = var.push_endpoints[each.value.entry_point]
    }
  }
}

resource "google_pubsub_subscription" "dead_letters" {
  for_each = toset(var.topics)

  project = var.project_id
  name    = "${each.value}-dlq-hold"
  topic   = google_pubsub_topic.dlq[each.key].id
  labels  = var.labels

  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

# Each function publishes to the topics its code publishes to, and to nothing else.
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = var.publishers

  project = var.project_id
  topic   = google_pubsub_topic.topic[each.value.target].name
  role    = "roles/pubsub.publisher"
  member  = each.value.member
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = toset(var.topics)

  project = var.project_id
  topic   = google_pubsub_topic.dlq[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = var.subscriptions

  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Pub/Sub mints the push requests' OIDC tokens as its service agent acting for the push account.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = var.push_service_account_id
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}
