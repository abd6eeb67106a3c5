"""sema"""
