"""The local AWS: emulator, bootstrap from template.yaml, the local runner and the `commerce-ai` CLI.

Nothing here ships to Lambda.
"""
