"""Disproportionality monitoring: read-only aggregate queries, statistics, suppression and exports.

Nothing here changes a record. Counts are computed in the database with GROUP BY (never by loading
people into Python); the statistics and suppression are pure functions over those counts.
"""
