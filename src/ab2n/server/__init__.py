"""ab2n.server"""
