"""Dynamic pricing domain: guard rails, lifecycle strategies and the competitor price index.

Pure, typed Python: no AWS, no model runtime. Handlers and the repricing tick call into it.
"""
