"""GraphQL extensions and limits: parsing and validation under bounds, the linear analysis
of an operation, input maxima, validation rules, SQL diagnostics."""
