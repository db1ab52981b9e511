"""A LocalStack Lambda runtime executor that runs function environments as host processes."""
