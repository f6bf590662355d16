"""Visual search (issue 16): search the catalogue by photo, similar items, colour/shape/texture filters and
scene-based suggestions. Serving needs numpy, Pillow, onnxruntime and faiss only (no torch)."""
