"""Product inventory (TMF637): lines, data SIMs, handsets, fibre, and their lifecycle."""
