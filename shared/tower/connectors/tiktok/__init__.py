"""TikTok Business API connector (requests): audience reports by country and province, campaigns, budgets."""
