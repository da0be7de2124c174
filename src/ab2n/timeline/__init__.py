"""ab2n.timeline"""
