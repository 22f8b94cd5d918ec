"""Document sequences: format, per-division and per-year counters, uniqueness and no gaps under
concurrent writers (each its own connection), and rollback releasing the number."""
from __future__ import annotations

import threading

import pytest

from core.db import atomic, database
from modules.base import sequences, services
from modules.base.models import Sequence

WRITERS = 8
PER_WRITER = 50


@pytest.fixture
def divisions(install):
    return (services.create_division("IA", "工业自动化事业部"),
            services.create_division("MD", "医疗器械事业部"))


def test_format_and_increment(divisions):
    ia, _ = divisions
    assert sequences.next_number(ia, "LD", year=2026) == "LD-2026-000001"
    assert sequences.next_number(ia, "LD", year=2026) == "LD-2026-000002"
    assert sequences.next_number(ia, "QT", year=2026, prefix="BJ", padding=4) == "BJ-2026-0001"
    assert sequences.peek(ia, "LD", 2026) == 2
    assert sequences.peek(ia, "XX", 2026) == 0


def test_default_year_is_the_current_year_in_china(divisions):
    ia, _ = divisions
    number = sequences.next_number(ia.id, "CT")
    assert number == f"CT-{sequences.current_year()}-000001"


def test_counters_are_independent_per_division_code_and_year(divisions):
    ia, md = divisions
    assert sequences.next_number(ia, "LD", year=2026) == "LD-2026-000001"
    assert sequences.next_number(md, "LD", year=2026) == "LD-2026-000001"
    assert sequences.next_number(ia, "LD", year=2027) == "LD-2027-000001"
    assert sequences.next_number(ia, "LD", year=2026) == "LD-2026-000002"
    assert sequences.next_number(ia, "QT", year=2026) == "QT-2026-000001"
    assert Sequence.select().count() == 4


def test_rollback_releases_the_number(divisions):
    ia, _ = divisions
    assert sequences.next_number(ia, "LD", year=2026) == "LD-2026-000001"
    with pytest.raises(RuntimeError):
        with atomic():
            assert sequences.next_number(ia, "LD", year=2026) == "LD-2026-000002"
            raise RuntimeError("the document failed to save")
    assert sequences.next_number(ia, "LD", year=2026) == "LD-2026-000002"


def test_rollback_of_the_first_number_of_a_year_leaves_no_gap(divisions):
    ia, _ = divisions
    with pytest.raises(RuntimeError):
        with atomic():
            sequences.next_number(ia, "LD", year=2030)
            raise RuntimeError("rolled back")
    assert sequences.next_number(ia, "LD", year=2030) == "LD-2030-000001"


def test_update_then_select_path_for_sqlite_without_returning(divisions):
    ia, _ = divisions
    with atomic():
        assert sequences._increment(ia.id, "LD", 2026, returning=False) is None
        Sequence.create(division=ia, code="LD", year=2026, last_value=0)
        assert sequences._increment(ia.id, "LD", 2026, returning=False) == 1
        assert sequences._increment(ia.id, "LD", 2026, returning=True) == 2


@pytest.mark.parametrize("kwargs, field", [
    ({"code": "ld"}, "code"), ({"code": "L-D"}, "code"), ({"code": ""}, "code"),
    ({"code": "LD", "year": 123}, "year"), ({"code": "LD", "padding": 0}, "padding"),
    ({"code": "LD", "prefix": "../x"}, "prefix"),
])
def test_invalid_arguments_name_the_field(divisions, kwargs, field):
    ia, _ = divisions
    code = kwargs.pop("code")
    with pytest.raises(services.BaseError) as caught:
        sequences.next_number(ia, code, **kwargs)
    assert caught.value.field == field


def test_concurrent_writers_get_unique_contiguous_numbers(divisions):
    """8 threads, each with its own connection and one transaction per number."""
    ia, _ = divisions
    results: list[list[str]] = [[] for _ in range(WRITERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(slot: int) -> None:
        database.connect(reuse_if_open=True)
        try:
            start.wait()
            for _ in range(PER_WRITER):
                with atomic():
                    results[slot].append(sequences.next_number(ia.id, "LD", year=2026))
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    numbers = [n for chunk in results for n in chunk]
    assert len(numbers) == WRITERS * PER_WRITER
    assert len(set(numbers)) == len(numbers)
    values = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert values == list(range(1, WRITERS * PER_WRITER + 1))
    for chunk in results:  # each writer saw its own numbers rise
        assert chunk == sorted(chunk)
    assert sequences.peek(ia, "LD", 2026) == WRITERS * PER_WRITER
