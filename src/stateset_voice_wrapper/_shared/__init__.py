"""The floor: errors, defaults, IDs, lazily loaded asyncio helpers. Imports nothing else of the package."""
