"""The read API: published stories in IPTC ninjs 2.2 under /api/v1/ (docs/api.md)."""
