"""ab2n.mix"""
