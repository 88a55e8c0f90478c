"""The outbox in the staff console (``/staff/outbox``, staff only): every side effect with its
state, tries and last error, filtered by state; a dead one can be retried. Beside it, the
queue's engine and what the polling job knows of each SMS upstream."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from portal import jobs
from portal.jobs import outbox
from portal.jobs.queue import backend
from portal.numbers import health
from portal.routes.staff import staff_required
from portal.states import OUTBOX_STATES
from portal.web import views

bp = Blueprint("staff_outbox", __name__, url_prefix="/staff/outbox")


def _page(status: int = 200, retried: bool | None = None):
    state = request.values.get("state", "")
    state = state if state in OUTBOX_STATES else ""
    return views.render(
        "pages/staff_outbox.html", "fragments/outbox_table.html", status,
        messages=list(outbox.recent(state or None)), counts=outbox.counts(), state=state,
        states=OUTBOX_STATES, retried=retried, upstreams=health.all_upstreams(),
        queue_backend=backend(jobs.of(current_app).queue))


@bp.get("")
@staff_required
def index():
    return _page()


@bp.post("/<id:message_id>/retry")
@staff_required
def retry(message_id: int):
    if not outbox.retry(message_id):
        return _page(409, retried=False)
    jobs.deliver_soon()
    return _page(retried=True)
