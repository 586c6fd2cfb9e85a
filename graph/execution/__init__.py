"""How an operation runs: the request's database session, the loaders, keyset pagination and
the look-ahead of a page. graphql-core's own executor runs what the compiler does not answer."""
