"""The command line's parser: bad input is a usage error naming the option; help fits 80 columns."""

from __future__ import annotations

import pytest
from villages_sync_ops.cli.main import build_parser


@pytest.mark.parametrize("option", ["--endpoint-url", "--dynamodb-endpoint-url"])
@pytest.mark.parametrize("value", ["not-a-url", "ftp://127.0.0.1:21", "http://"])
def test_endpoint_option_not_an_http_url_is_a_usage_error_naming_it(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an endpoint is not an http(s) URL with a host (botocore would raise a traceback)
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["sync", option, value])

    # Then argparse's usage error, exit code 2, names the option and the value
    assert exited.value.code == 2
    assert f"argument {option}: {value!r} is not an http(s) URL" in capsys.readouterr().err


def test_top_level_help_fits_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an 80-column terminal
    monkeypatch.setenv("COLUMNS", "80")

    # When the top-level help is printed
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])

    # Then no line is wider (the description and examples are written, not wrapped)
    lines = capsys.readouterr().out.splitlines()
    assert "exit codes: 0 success; 1 the run or command failed (nothing was deleted);" in lines
    assert [line for line in lines if len(line) > 80] == []
