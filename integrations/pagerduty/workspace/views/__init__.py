"""The workspace's pages, one module per section; `base` is the plumbing."""
