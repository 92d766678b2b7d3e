"""A local stand-in for Slack's wire format: chat.postMessage, incoming webhooks, response_url, interactivity."""
