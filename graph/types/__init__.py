"""Strawberry types, one module per domain, each mapped from its SQLAlchemy model."""
