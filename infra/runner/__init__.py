"""The local runner: serves every function in template.yaml the way its triggers would invoke it."""
