"""The reliability layer, the httpx seam: retry policy, budget, options, the sans-IO state of
one logical request, error mapping and the transport. Imports only ``_shared``."""
