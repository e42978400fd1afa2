"""One integer parser for the command lines: `drlkit ...` (cli.py) and `python -m drlkit.demo` answer alike."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drlkit._checks import int_argument
from drlkit.cli import main
from drlkit.demo import parse_args


@pytest.mark.parametrize(
    "low, high, text, message",
    [
        (1, None, "0", "steps must be in [1, inf) (an integer >= 1), got 0"),
        (1, None, "many", "steps must be an integer >= 1, got 'many'"),
        (1, None, "1.5", "steps must be an integer >= 1, got '1.5'"),
        (2, 10, "11", "steps must be in [2, 10] (an integer from 2 to 10), got 11"),
    ],
)
def test_bad_text_names_the_option_what_was_typed_and_the_range(low, high, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        int_argument("steps", low, high)(text)
    assert str(info.value) == message


@settings(max_examples=60, deadline=None)
@given(value=st.integers(-(10**6), 10**6), low=st.integers(-5, 5), width=st.integers(0, 10))
def test_accepts_exactly_the_integers_in_range(value, low, width):
    parse = int_argument("n", low, low + width)
    if low <= value <= low + width:
        assert parse(f" {value} ") == value
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=r"n must be in \["):
            parse(str(value))


def test_the_demo_and_the_cli_refuse_a_bad_worker_count_with_the_same_words(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0"])
    demo = capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "PPO", "CartPole-v1", "--steps", "10", "--workers", "0"])
    assert exit_info.value.code == 2
    cli = capsys.readouterr().err
    assert "workers must be in [1, inf) (an integer >= 1), got 0" in demo
    assert "--workers must be in [1, inf) (an integer >= 1), got 0" in cli
