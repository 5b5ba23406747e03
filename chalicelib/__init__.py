"""The insurance e-card and premium backend: everything behind app.py."""
