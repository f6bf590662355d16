"""Pricing models: demand and elasticity from Dominick's orange juice (or a user's own sales file).

Work in progress (issue 3): the data loader is here; the demand model, simulator and policy follow.
It is not registered in `model_build.CAPABILITIES` until it builds a servable model.
"""
