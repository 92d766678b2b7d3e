"""The TikTok sandbox: the synthetic world's ad accounts in TikTok's real wire format."""
