"""Invoking a handler the way Lambda's Python runtime does, in this process.

Mirrors the documented behaviour: the function's environment plus the runtime's own variables,
a context object with Lambda's attributes, the event and the result passed through JSON, and an
exception turned into Lambda's error shape (``errorMessage``, ``errorType``, ``stackTrace``).
What cannot be mirrored in-process: preempting a handler at its timeout. A handler that ran past
its timeout is reported as Lambda reports a timeout, after the fact.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from villages_sync_ops.local.intrinsics import DEFAULT_ACCOUNT_ID, DEFAULT_REGION

_ENV_LOCK = threading.RLock()  # the process environment is shared: one invocation at a time


@dataclass(frozen=True)
class LambdaContext:
    """The attributes and method of Lambda's Python context object."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_epoch_seconds: float
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_epoch_seconds - time.time()) * 1000))


@dataclass(frozen=True)
class Invocation:
    payload: Any
    error: dict[str, Any] | None
    duration_ms: float
    request_id: str

    @property
    def succeeded(self) -> bool:
        return self.error is None

    @property
    def error_text(self) -> str:
        """``ErrorType: message`` of a failed invocation; empty when it succeeded."""
        if self.error is None:
            return ""
        return f"{self.error['errorType']}: {self.error['errorMessage']}"


def make_context(
    function_name: str, *, timeout_seconds: float, memory_mb: int, region: str
) -> LambdaContext:
    request_id = str(uuid.uuid4())
    return LambdaContext(
        function_name=function_name,
        memory_limit_in_mb=memory_mb,
        invoked_function_arn=f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT_ID}:function:{function_name}",
        aws_request_id=request_id,
        log_group_name=f"/aws/lambda/{function_name}",
        log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        deadline_epoch_seconds=time.time() + timeout_seconds,
    )


def invoke(
    handler_path: str,
    event: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    function_name: str,
    timeout_seconds: float,
    memory_mb: int,
    region: str = DEFAULT_REGION,
) -> Invocation:
    """Run ``module.path.function`` with ``event`` as Lambda would; never raises for the handler."""
    module_name, _, function = handler_path.rpartition(".")
    context = make_context(
        function_name, timeout_seconds=timeout_seconds, memory_mb=memory_mb, region=region
    )
    runtime_env = {
        **env,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": handler_path,
        "LAMBDA_TASK_ROOT": os.getcwd(),
    }
    started = time.perf_counter()
    with (
        _environment(runtime_env),
        _lambda_json_logging(context.aws_request_id),
        _copied_logger_config_undone(),
    ):
        try:
            handler = getattr(_handler_module(module_name, function_name), function)
            _powertools_loggers_write_to_stdout()
            result = handler(json.loads(json.dumps(event)), context)
            payload = json.loads(json.dumps(result)) if result is not None else None
            error = None
        except Exception as exc:  # the runtime reports any exception as the invocation's error
            payload, error = None, _error_shape(exc)
    duration_ms = (time.perf_counter() - started) * 1000
    if error is None and duration_ms > timeout_seconds * 1000:
        payload, error = (
            None,
            {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {timeout_seconds:.2f} seconds",
            },
        )
    return Invocation(payload, error, duration_ms, context.aws_request_id)


_IMPORTED_FOR: dict[str, str] = {}  # handler module -> the function whose environment imported it


def _handler_module(module_name: str, function_name: str) -> ModuleType:
    """The handler's module as its own Lambda process would hold it: imported in this
    function's environment, then kept warm for its next invocations.

    A module imported anywhere else (a test reading a constant of it, another function of the
    same code) ran its module-level code under other settings: Powertools' ``Metrics()`` without
    the function's namespace fails every flush ("Must contain a metric namespace"), so each batch
    failed and went to the DLQ. Such a module is imported again, as a cold start would.

    The import copies the function's logger config onto the package's loggers (the handlers'
    ``log_through``), once, as in Lambda; here every invocation ends by undoing it
    (``_copied_logger_config_undone``), so a warm invocation has what its import copied put
    back: the function's own, whichever function ran in between."""
    if _IMPORTED_FOR.get(module_name) != function_name:
        sys.modules.pop(module_name, None)
        module = importlib.import_module(module_name)
        _IMPORTED_FOR[module_name] = function_name
        _COPIED_AT_IMPORT[module_name] = _copied_logger_config()
        return module
    _restore_logger_config(_COPIED_AT_IMPORT.get(module_name, {}))
    return importlib.import_module(module_name)


_LoggerConfig = tuple[list[logging.Handler], bool, int]  # handlers, propagate, level
_COPIED_AT_IMPORT: dict[str, dict[str, _LoggerConfig]] = {}  # handler module -> its copies


def _copied_logger_config() -> dict[str, _LoggerConfig]:
    """The loggers that write through a Powertools logger's handler without being one (the
    copies ``copy_config_to_registered_loggers`` made), as they stand."""
    return {
        candidate.name: (list(candidate.handlers), candidate.propagate, candidate.level)
        for candidate in _loggers_with_copied_config()
    }


def _restore_logger_config(config: Mapping[str, _LoggerConfig]) -> None:
    for name, (handlers, propagate, level) in config.items():
        candidate = logging.getLogger(name)
        candidate.handlers = list(handlers)
        candidate.propagate = propagate
        candidate.setLevel(level)


def _powertools_loggers_write_to_stdout() -> None:
    """Powertools' ``Logger`` binds its handler to ``sys.stdout`` as it was at the logger's
    creation (another invocation's log, or a test's capture), and a logger created again keeps
    that handler. In Lambda, stdout is always the function's log: point each one at the
    current stdout, whatever it is at the time of each write. Their records are not printed
    again by the root handler (Powertools filters them out only of the root handlers present
    when it creates a logger)."""
    # Imported here: by now the handler has loaded Powertools; the CLI's start-up need not
    from aws_lambda_powertools.logging.constants import LOGGER_ATTRIBUTE_PRECONFIGURED

    for candidate in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(candidate, logging.Logger):
            continue
        if not getattr(candidate, LOGGER_ATTRIBUTE_PRECONFIGURED, False):
            continue
        _POWERTOOLS_LOGGERS.add(candidate.name)
        for handler in candidate.handlers:
            if type(handler) is logging.StreamHandler and handler.stream is not _CURRENT_STDOUT:
                # ignore: typeshed types the stream as the handler's own (TextIO); StreamHandler
                # only calls write and flush, which the proxy has
                handler.setStream(_CURRENT_STDOUT)  # type: ignore[arg-type]


@contextmanager
def _copied_logger_config_undone() -> Iterator[None]:
    """A handler's import copies its Powertools logger's handler and level onto the package's
    loggers (``copy_config_to_registered_loggers``: ``villages_sync``'s records then carry the
    run id), and stops those loggers propagating. In Lambda the process is the function's own;
    here it is shared with other functions, the command line and the tests: after the
    invocation each such logger is as it was before (its handlers, propagation and level), so
    nothing outside an invocation writes through a function's logger, and the next invocation
    has its own function's copy back (``_handler_module``)."""
    before = {
        name: (list(candidate.handlers), candidate.propagate, candidate.level)
        for name, candidate in list(logging.Logger.manager.loggerDict.items())
        if isinstance(candidate, logging.Logger)
    }
    try:
        yield
    finally:
        if "aws_lambda_powertools" in sys.modules:
            _undo_copied_config(before)


def _undo_copied_config(before: Mapping[str, _LoggerConfig]) -> None:
    for candidate in _loggers_with_copied_config():
        handlers, propagate, level = before.get(candidate.name, ([], True, logging.NOTSET))
        candidate.handlers = handlers
        candidate.propagate = propagate
        candidate.setLevel(level)


def _loggers_with_copied_config() -> list[logging.Logger]:
    """Loggers holding a handler of a Powertools logger, other than the Powertools ones."""
    if "aws_lambda_powertools" not in sys.modules:
        return []  # no handler imported yet: nothing can have been copied
    from aws_lambda_powertools.logging.constants import LOGGER_ATTRIBUTE_PRECONFIGURED

    loggers = [
        candidate
        for candidate in list(logging.Logger.manager.loggerDict.values())
        if isinstance(candidate, logging.Logger)
    ]
    preconfigured = [c for c in loggers if getattr(c, LOGGER_ATTRIBUTE_PRECONFIGURED, False)]
    theirs = {id(handler) for c in preconfigured for handler in c.handlers}
    return [
        candidate
        for candidate in loggers
        if candidate not in preconfigured and any(id(h) in theirs for h in candidate.handlers)
    ]


class _LambdaJsonFormatter(logging.Formatter):
    """Lambda's JSON log format (LoggingConfig LogFormat: JSON) for stdlib ``logging`` records:
    timestamp, level, message, logger, requestId, and the record's ``extra`` fields."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": self.request_id,
        }
        document.update(
            {k: v for k, v in vars(record).items() if k not in self._STANDARD and k[0] != "_"}
        )
        if record.exc_info:
            document["stackTrace"] = self.formatException(record.exc_info).splitlines()
        return json.dumps(document, default=str)


@contextmanager
def _lambda_json_logging(request_id: str) -> Iterator[None]:
    """The runtime's root handler for the invocation: records of the code's own loggers reach
    the function's output as Lambda's JSON lines (with their fields), not as bare text.

    One handler for the life of the process, as in Lambda: Powertools' Logger, when a module
    creates it, filters its own records out of the root handlers present then. A new handler
    per invocation lacked that filter, so from the second invocation on each Powertools line
    was printed twice (once more with ``logger`` and ``requestId``)."""
    _ROOT_FORMATTER.request_id = request_id
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO"
    _ROOT_HANDLER.setLevel(level.upper() if level.upper() in logging._nameToLevel else "INFO")
    root = logging.getLogger()
    root.addHandler(_ROOT_HANDLER)
    try:
        yield
    finally:
        root.removeHandler(_ROOT_HANDLER)


_POWERTOOLS_LOGGERS: set[str] = set()  # names of the loggers with a Powertools handler of their own


def _not_a_powertools_record(record: logging.LogRecord) -> bool:
    """Powertools' own ``SuppressFilter`` rule: a logger's records and its children's."""
    return not any(name in record.name for name in _POWERTOOLS_LOGGERS)


class _CurrentStdout:
    """Whatever ``sys.stdout`` is at the time of each write (it may be redirected)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


_CURRENT_STDOUT = _CurrentStdout()
_ROOT_FORMATTER = _LambdaJsonFormatter("")
_ROOT_HANDLER = logging.StreamHandler(_CURRENT_STDOUT)
_ROOT_HANDLER.setFormatter(_ROOT_FORMATTER)
_ROOT_HANDLER.addFilter(_not_a_powertools_record)


def _error_shape(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    with _ENV_LOCK:
        saved = dict(os.environ)
        os.environ.update(values)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
