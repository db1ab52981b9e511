"""S3 bucket checks: one module per check; the module name is the check id."""
