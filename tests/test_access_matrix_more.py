"""The access matrix for the other roles (tests/test_access_matrix.py holds the world, the crawl and the
first roles): in a file of their own so that the parallel suite, which gives each worker whole files,
crawls the roles on both workers."""

from __future__ import annotations

import pytest

from tests.test_access_matrix import (
    OTHER_ROLES,
    World,
    check_role,
    world,  # noqa: F401  (the fixture)
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_page_for_the_other_roles(world: World, role: str) -> None:  # noqa: F811
    check_role(world, role)
