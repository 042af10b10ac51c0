"""Reference data every installation loads, and the synthetic demo data."""
