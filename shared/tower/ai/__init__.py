"""The AI layer: context, Claude client, grounding check, deterministic narrator, Q&A, summaries.

Library entry points (wired by ``functions/`` and the CLI): :func:`tower.ai.summarize.run_summarize`
and :func:`tower.ai.qa.ask`. Nothing here imports the anthropic SDK at import time.
"""
