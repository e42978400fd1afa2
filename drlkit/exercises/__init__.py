"""Check functions for the notebook exercises: each says precisely what is wrong, or confirms success."""
