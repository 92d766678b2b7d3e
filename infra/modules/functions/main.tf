# One Cloud Run function (2nd gen) per entry point of main.py, all built from the same source zip.
#
# Every function is an HTTPS function scaled to zero (min instances 0); none uses an Eventarc
# event_trigger. The Pub/Sub handlers are reached by push subscriptions the pubsub module declares,
# because the subscription an event_trigger creates is owned by Eventarc and cannot be given a
# dead-letter topic from Terraform (hashicorp/terraform-provider-google#25069). functions-framework
# turns a Pub/Sub push body into the same CloudEvent Eventarc would deliver, so a handler written with
# @functions_framework.cloud_event is unchanged by this choice.

# The zip is named by its content hash: a new build uploads a new object and redeploys the functions;
# an unchanged tree changes nothing (infra/package_source.py writes byte-identical zips).
resource "google_storage_bucket" "source" {
  # checkov:skip=CKV_GCP_62:Holds only the functions' source zips (code, no data); reads and writes are in Cloud Audit Logs, a second access-log bucket adds nothing.
  # checkov:skip=CKV_GCP_78:Objects are named by their content's MD5 and never overwritten, so versioning would keep nothing more; old zips expire by the lifecycle rule.
  project                     = var.project_id
  name                        = "${var.project_id}-tower-functions-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = var.labels

  # A build reads its zip once; older zips are kept a while so a rollback can redeploy them.
  lifecycle_rule {
    condition {
      age = var.source_retention_days
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "functions-source-${filemd5(var.source_archive)}.zip"
  source = var.source_archive
}

resource "google_cloudfunctions2_function" "fn" {
  # checkov:skip=CKV_GCP_124:Ingress must be ALL: Pub/Sub push, Cloud Tasks and Cloud Scheduler reach "internal" ingress only from inside a VPC Service Controls perimeter, and the API and webhooks are public by design. Who may call is enforced by IAM (run.invoker per caller, below) and by the functions themselves.
  for_each = var.functions

  project     = var.project_id
  location    = var.region
  name        = each.value.name
  description = "Control Tower ${each.key} (${each.value.trigger})"
  labels      = var.labels

  build_config {
    runtime         = "python311"
    entry_point     = each.key
    service_account = var.build_service_account_id
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    min_instance_count               = 0
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout_seconds
    # functions-framework's gunicorn runs one worker with THREADS threads (default 4 per CPU): as many
    # as the requests Cloud Run sends at once, so none of them waits for a thread behind a slow read
    environment_variables          = merge(var.environment, { THREADS = tostring(each.value.concurrency) })
    service_account_email          = var.service_account_emails[each.key]
    all_traffic_on_latest_revision = true
    # Network ingress stays open; who may call is decided by IAM (the invoker bindings below), since
    # Pub/Sub, Cloud Tasks and Cloud Scheduler reach "internal only" services only from inside a
    # VPC Service Controls perimeter.
    ingress_settings = "ALLOW_ALL"
  }
}

# run.invoker on each function's Cloud Run service for exactly the caller its trigger implies. The
# public functions are left out when the organisation forbids allUsers (var.invoked_functions).
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = var.invoked_functions

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = var.invoker_members[split(":", each.value.trigger)[0]]
}
