"""ab2n serve: the cloud protocol of shared/SPEC.md over the ab2n core (the core never imports this)."""
