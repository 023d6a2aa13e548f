"""Safety checks: resource limits for huge inputs, and a lint for insecure suggestions."""
