"""The MCP server: the agent's domain layer (read-only) and its audit API, as MCP tools and resources.

`secagent.mcp.server.main(argv)` runs it over stdio (or streamable HTTP on 127.0.0.1).
"""
