"""Services, one module per use case: they own records, audit events and recordings, and are called by the edges."""
