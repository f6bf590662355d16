"""The shop's item catalogue: one table of items and their metadata (title, category, brand, price, stock,
image) that every capability reads — recommendations' filters, visual search's index, customer service's
answers — and that admins and bulk imports write (README, "Catalogue")."""
