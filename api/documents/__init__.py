"""Server-generated PDF documents of cases and licenses, each traced to its signed events."""
