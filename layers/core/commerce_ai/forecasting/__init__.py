"""Demand forecasting and inventory: features shared by training and serving, the served quantile model, the
sales-file reader, inventory policy maths and the forecast chart (README, "Demand forecasting")."""
