"""Policy text read alike by the site generator and the portal (``redline``)."""
