from ui.state import format_offsets, parse_offsets


def test_offsets_round_trip_and_drop_zeros():
    assert parse_offsets("12:1.5,3:-1") == {12: 1.5, 3: -1.0}
    assert format_offsets({3: -1.0, 12: 1.5, 4: 0.0}) == "3:-1,12:1.5"
    assert format_offsets({1: 0.0}) is None
    assert parse_offsets("") == {}


def test_a_clicked_map_point_is_read_whatever_shape_its_customdata_has():
    """Issue 25: /latent crashed on a map click (customdata arrived as a dict, read as a list)."""
    from ui.latent.maps import map_point

    assert map_point({"customdata": [17, 3]}) == (17, 3)
    assert map_point({"customdata": {"0": 17, "1": 3}}) == (17, 3)
    assert map_point({"customdata": {0: 17, 1: -1}}) == (17, None)
    assert map_point({"customdata": "x"}) == (None, None) and map_point(None) == (None, None)
    assert map_point({"customdata": [2 ** 40]}) == (None, None)
