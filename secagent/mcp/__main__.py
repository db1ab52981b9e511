"""`python -m secagent.mcp` runs the MCP server (same as `python -m secagent.mcp.server`)."""

import sys

from secagent.mcp.server import main

sys.exit(main())
