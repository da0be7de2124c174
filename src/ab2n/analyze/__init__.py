"""ab2n.analyze"""
