"""hfdash: shop for open models on the Hugging Face Hub, check they fit, and try them."""

__version__ = "0.1.0"
