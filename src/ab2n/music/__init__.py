"""ab2n.music"""
