"""Recommendations (issue 13): item-item CF and EASE candidates, a Wide&Deep ranker served as ONNX, the
user's session from behaviour events, filters, negative feedback, fatigue and diversity.

`state` is the artifact's side data (items, neighbours, users' histories), `features` the one feature code
path training and serving share, `filters` the per-request item filters, `session` the short-term state
the event consumer keeps, `rerank` diversity and exploration, `service` what the handlers call.
"""
