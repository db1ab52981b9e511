"""S3 bucket checks: one module per check; the module name is the check id."""

RESOURCE_TYPE = "AWS::S3::Bucket"
