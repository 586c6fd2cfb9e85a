"""Mutation resolvers: each one transaction, each returning a payload union."""
