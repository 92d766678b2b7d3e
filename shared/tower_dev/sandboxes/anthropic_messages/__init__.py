"""The Anthropic sandbox: a local Messages API answered by scripted rules of its own (see ``server``
for the wire format and the fault queue, ``scripted`` for the rules), never by the product's code."""

from tower_dev.sandboxes.anthropic_messages.scripted import WRONG_NUMBER
from tower_dev.sandboxes.anthropic_messages.server import FAULTS, AnthropicSandbox

__all__ = ["FAULTS", "WRONG_NUMBER", "AnthropicSandbox"]
