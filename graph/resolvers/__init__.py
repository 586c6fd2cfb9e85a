"""The resolvers: queries, mutations and subscriptions, one module per domain."""
