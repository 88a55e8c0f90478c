"""The payments tests' fixture: a local fake of the processors' APIs."""

from tests.payments.fake_api import fake_api  # noqa: F401 (a fixture)
