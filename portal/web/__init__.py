"""Web plumbing shared by the blueprints: request helpers, security headers, languages, messages and error pages."""
