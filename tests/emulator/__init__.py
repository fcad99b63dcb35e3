"""Tests for azure_ai_kit.emulator."""
