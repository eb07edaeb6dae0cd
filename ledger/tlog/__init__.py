"""The transparency-log machinery, free of any rare-earth notion (pure)."""
