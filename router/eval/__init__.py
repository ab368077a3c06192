"""The router's retrieval evaluation: real tool catalogs of public MCP servers and labelled queries."""
