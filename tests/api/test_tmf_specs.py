"""Whether this run checks bodies against the official TM Forum schemas at all.

Without ``ONETHREAD_TMF_SPECS`` the schema checks inside the other tests check nothing; this
test is where a run says so (a skip with the reason), and where CI fails if the files are gone.
"""

from __future__ import annotations

import pytest

from tests.tmf_schema import SPECS, require, validate


@pytest.mark.parametrize("api", sorted(SPECS))
def test_the_official_schemas_are_checked(api):
    require(api)
    # A body that breaks the official Error schema (status must be a string) is caught, so a
    # folder of files that validate nothing would not pass for the real ones.
    with pytest.raises(AssertionError, match="does not validate"):
        validate(api, "Error", {"code": "x", "reason": "y", "status": 400})
