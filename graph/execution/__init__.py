"""How an operation runs: the request's database session, the loaders, keyset pagination,
the look-ahead of a page, and the plain-field shortcut through graphql-core."""
