"""The HTTP and WebSocket edge: routing, the GraphQL-over-HTTP rules, CORS, caching,
persisted queries, the transport's own limits, and the offline playground."""
