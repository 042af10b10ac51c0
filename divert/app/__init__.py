"""The application's plumbing: extensions, the database session, security headers, the UK clock.

Nothing here knows about people, cases or programmes; every other part may use it.
"""
