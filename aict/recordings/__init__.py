"""Terminal recordings: every session's output stored in small batches and served as asciicast v2."""
