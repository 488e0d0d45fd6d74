"""collabgraph: multi-LLM collaboration graphs — write them, run them on any model, search them under a budget."""

from collabgraph.settings import offline_env

# litellm fetches its cost map and Hugging Face tokenizers at import unless told not to; nothing in
# collabgraph may touch the network at import, so these defaults are set before anything imports litellm.
offline_env()

__version__ = "0.1.0"

__all__ = ["__version__"]
