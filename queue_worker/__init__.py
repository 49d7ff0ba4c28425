"""The queue: arq job contracts, the client the bots use, and the worker."""
