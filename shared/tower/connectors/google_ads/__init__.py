"""Google Ads API connector (google-ads SDK over gRPC): performance by user location, campaigns, budgets."""
