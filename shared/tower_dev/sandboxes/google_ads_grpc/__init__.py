"""The Google Ads sandbox: the synthetic world's ad accounts in Google Ads's real wire format."""
