"""The domain: what Clarity does with tasks, chats, panic presses, visits and the audit log,
with no GraphQL in it.

Services take an `AsyncSession` and the viewer's owner id and run inside the caller's
transaction; every read of owned rows goes through `domain.scope`. Expected failures are
`domain.errors` exceptions (not found, invalid with per-field problems, forbidden,
conflict, the assistant failing), which `graph/` turns into payload types in one place.
Nothing here imports strawberry or `graph` (tests/test_layers.py checks it), so the CLI, a
job or the assistant's tools can call a service as the GraphQL mutations do.
"""
