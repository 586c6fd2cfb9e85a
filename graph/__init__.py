"""Clarity Graph: the GraphQL API (types, resolvers, loaders, context, auth, the app)."""
