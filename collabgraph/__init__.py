"""collabgraph: multi-LLM collaboration graphs — write them, run them on any model, search them under a budget."""

__version__ = "0.1.0"

__all__ = ["__version__"]
