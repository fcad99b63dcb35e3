"""azure-ai-kit."""
