"""HTTP routes, one module per area; each route parses, calls the service and maps the result."""
