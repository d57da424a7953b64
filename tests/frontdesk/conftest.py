import pytest

from tests.frontdesk.desk import make_scene


@pytest.fixture
def scene(build):
    """scene(sets=2, day=None, start="09:00", minutes=60) -> a class with one session, today by default."""

    def _scene(**kw):
        return make_scene(build, **kw)

    return _scene
