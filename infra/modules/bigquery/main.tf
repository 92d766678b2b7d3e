# The warehouse: one dataset, one table per DDL file in shared/tower/sql/schema.
#
# Terraform cannot read SQL, so infra/gen_schema.py parses the DDL (sqlglot, BigQuery dialect) and
# commits what Terraform needs next to this file: schema/<table>.json (BigQuery JSON schema) and
# tables.json (description, partitioning, clustering). tests/unit/infra/test_terraform.py regenerates
# both in memory and fails when they drift from the DDL, so the tables here are always the DDL's.

locals {
  tables = jsondecode(file("${path.module}/tables.json"))
}

resource "google_bigquery_dataset" "tower" {
  # checkov:skip=CKV_GCP_81:Encrypted at rest with Google-managed keys; no requirement here for customer-managed keys, which would add a KMS key ring, its rotation and IAM for the BigQuery service agent.
  project     = var.project_id
  dataset_id  = var.dataset_id
  location    = var.location
  description = "Control Tower warehouse: platforms' data, models and the audit trail."
  labels      = var.labels

  # Keep the data if the dataset resource is ever removed from the configuration by mistake.
  delete_contents_on_destroy = false
}

resource "google_bigquery_table" "table" {
  # checkov:skip=CKV_GCP_80:Encrypted at rest with Google-managed keys, as the dataset (see CKV_GCP_81 above).
  for_each = local.tables

  project     = var.project_id
  dataset_id  = google_bigquery_dataset.tower.dataset_id
  table_id    = each.key
  description = each.value.description
  labels      = var.labels
  schema      = file("${path.module}/schema/${each.key}.json")
  clustering  = each.value.clustering

  # Large tables are partitioned by their store-local (or account-local) date, so every model query,
  # which always filters on that date, scans only its window.
  dynamic "time_partitioning" {
    for_each = each.value.partition_field == null ? [] : [each.value]
    content {
      type  = time_partitioning.value.partition_type
      field = time_partitioning.value.partition_field
    }
  }

  deletion_protection = var.deletion_protection
}

# Read and write rows, create the staging tables a load-then-MERGE uses: on this dataset only, for the
# functions whose code uses the warehouse (each its own account).
resource "google_bigquery_dataset_iam_member" "editor" {
  for_each = var.editor_members

  project    = var.project_id
  dataset_id = google_bigquery_dataset.tower.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value
}
