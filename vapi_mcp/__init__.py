"""vapi-mcp: a guarded MCP server for Vapi."""

__version__ = "0.1.0"
