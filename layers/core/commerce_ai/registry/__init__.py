"""The model-registry capability: validate new artifact versions, list them, activate and roll back."""
