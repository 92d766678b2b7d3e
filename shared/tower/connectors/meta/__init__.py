"""Meta Marketing API connector (facebook-business SDK): insights by region and country, campaigns, budgets."""
