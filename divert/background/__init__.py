"""Work that runs on the task queue (divert/app/jobs.py): imports too big for a request, large
exports, the nightly sweep, and the outbox's messages every minute. Each task opens its own app
context and session and commits its own work; pages and the API follow it through the ``jobs`` table."""

from divert.background import exports as exports
from divert.background import imports as imports
from divert.background import outbox as outbox
from divert.background import retention as retention
from divert.background import sweep as sweep
