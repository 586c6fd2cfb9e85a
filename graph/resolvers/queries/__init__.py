"""Query resolvers, scoped by the viewer."""
