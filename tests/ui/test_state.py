from ui.state import format_offsets, parse_offsets


def test_offsets_round_trip_and_drop_zeros():
    assert parse_offsets("12:1.5,3:-1") == {12: 1.5, 3: -1.0}
    assert format_offsets({3: -1.0, 12: 1.5, 4: 0.0}) == "3:-1,12:1.5"
    assert format_offsets({1: 0.0}) is None
    assert parse_offsets("") == {}
