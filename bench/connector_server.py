"""Runs the test suite's Bot Connector stand-in as its own process, so it does not share the GIL."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.connector import ConnectorStandIn


async def main() -> None:
    connector = ConnectorStandIn()
    await connector.start()
    print(connector.service_url, flush=True)
    while True:
        await asyncio.sleep(5)
        connector.clear()  # keep memory flat over long runs


if __name__ == "__main__":
    asyncio.run(main())
