"""The knowledge base: articles, their search, and what solved a call."""
