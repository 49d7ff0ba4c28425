"""Errors the dashboard turns into responses (see :func:`dashboard.app.create_app`)."""

from __future__ import annotations

from base.errors import FakeWatchError


class DashboardError(FakeWatchError):
    """The dashboard cannot do what was asked."""

    code = "dashboard"


class SignInRequired(DashboardError):
    """No valid signed-in session: a redirect to the sign-in form, or 401."""

    code = "sign_in_required"


class CsrfRejected(DashboardError):
    """A form post without this session's CSRF token, or from another site: 403."""

    code = "csrf_rejected"
