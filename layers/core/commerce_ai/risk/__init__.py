"""Risk control: real-time fraud scoring from velocity and graph features, rules, and decisions."""
