"""ab2n.intent"""
