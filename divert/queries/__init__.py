"""Read models that name people: worklists, dashboards and the reads behind case pages.

Every query here is scoped by ``divert.auth.visibility``; none writes (audit entries aside).
"""
