"""ab2n.render"""
