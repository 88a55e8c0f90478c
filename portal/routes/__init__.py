"""One blueprint per area of the portal; each route parses, calls the domain, renders."""
