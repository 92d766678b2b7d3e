"""The Anthropic sandbox: a local Messages API answered by the deterministic narrator (see ``server``)."""

from tower_dev.sandboxes.anthropic_messages.server import WRONG_NUMBER, AnthropicSandbox

__all__ = ["WRONG_NUMBER", "AnthropicSandbox"]
