"""Versioned model artifacts: manifests, the S3 store, the DynamoDB registry and the serving loader."""
