"""The Meta sandbox: the synthetic world's ad accounts in Meta's real wire format."""
