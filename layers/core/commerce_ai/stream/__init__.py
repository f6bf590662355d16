"""The shop's one behaviour-event stream: what users do (views, searches, carts, purchases...).

`schema.BehaviourEvent` is the contract every producer and consumer shares; see the README's
"Behaviour events" section.
"""
