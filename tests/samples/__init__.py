"""Tests for the sample apps in samples/."""
