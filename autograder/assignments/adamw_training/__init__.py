"""Lesson 3 as an assignment: clip_by_global_norm, WarmupCosineDecay and AdamW, trained on
handwritten digits (see `spec.py`)."""
