"""The package's loggers write through the function's Powertools logger.

``produce.py``, ``sweep.py`` and the calendar client log through ``logging.getLogger(__name__)``;
a handler calls ``log_through(logger)`` once, at import, right after building its ``Logger``, so
their records carry that logger's JSON, level and correlation id (the run's) in every invocation
of the process. Powertools' ``copy_config_to_registered_loggers`` does the work: it gives the
top-level ``villages_sync`` logger the function logger's handler and level and stops it
propagating (so nothing is printed twice by the runtime's root handler). The level the
function's settings name is set on both, each invocation (``set_log_level``): it is the one
part of the copy the settings decide.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

PACKAGE_LOGGER = "villages_sync"


def log_through(logger: Logger) -> None:
    """Route every ``villages_sync.*`` logger through ``logger`` (see the module's docstring)."""
    # Registered before the copy, which reaches only registered loggers: modules imported later
    # (lazily) log through their parent, this one, and so are covered too.
    logging.getLogger(PACKAGE_LOGGER)
    copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE_LOGGER})


def set_log_level(logger: Logger, level: str) -> None:
    """The settings' level on the function's logger and on the package's, which ``log_through``
    gave the level the logger had at import."""
    logger.setLevel(level)
    logging.getLogger(PACKAGE_LOGGER).setLevel(level)
