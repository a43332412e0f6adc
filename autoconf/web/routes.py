"""Every URL of the service in one table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoconf.diagnosis import api as diagnosis_api
from autoconf.health import api as health_api
from autoconf.probe import api as probe_api
from autoconf.web import api, api_admin, api_incidents, events_api, health, pages, setup
from autoconf.web.observe import UNMATCHED, Observer, make_fallback
from autoconf.web.support import assets, dashboard, login, views

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.typedefs import Handler

# (method, path, handler, name); names are the bounded "endpoint" metric label.
ROUTES: tuple[tuple[str, str, Handler, str], ...] = (
    ("GET", "/mail/config-v1.1.xml", setup.autoconfig, "autoconfig"),
    ("GET", "/.well-known/autoconfig/mail/config-v1.1.xml", setup.autoconfig, "well-known"),
    ("GET", "/v1.1/{domain}", setup.ispdb, "ispdb"),
    ("*", "/autodiscover/autodiscover.xml", setup.autodiscover_pox, "autodiscover"),
    ("GET", "/autodiscover/autodiscover.json", setup.autodiscover_json, "autodiscover-json"),
    (
        "GET",
        "/autodiscover/autodiscover.json/v1.0/{email}",
        setup.autodiscover_json,
        "autodiscover-json-v1",
    ),
    ("GET", "/apple/mail.mobileconfig", setup.mobileconfig_profile, "mobileconfig"),
    ("GET", "/apple/", pages.apple, "apple-page"),
    ("GET", "/apple", pages.apple, "apple-page-bare"),
    ("GET", "/api/v1/mailboxes/{email}/devices", api.mailbox_devices, "api-devices"),
    ("POST", "/api/v1/mailboxes/{email}/probe", probe_api.probe, "api-probe"),
    ("GET", "/api/v1/mailboxes/{email}/diagnosis", diagnosis_api.diagnosis, "api-diagnosis"),
    ("GET", "/api/v1/findings", diagnosis_api.findings, "api-findings"),
    ("GET", "/api/v1/mailboxes", api.mailboxes, "api-mailboxes"),
    ("GET", "/api/v1/mailboxes/{email}/probe-runs", api.probe_runs, "api-probe-runs"),
    ("POST", "/api/v1/mailboxes/{email}/notice", api_incidents.notice, "api-notice"),
    ("GET", "/api/v1/incidents", api_incidents.incidents, "api-incidents"),
    ("GET", "/api/v1/incidents/{id}", api_incidents.incident, "api-incident"),
    ("POST", "/api/v1/catalog/reload", api_admin.catalog_reload, "api-catalog-reload"),
    ("GET", "/api/v1/settings", api_admin.settings, "api-settings"),
    ("GET", "/api/v1/audit", api_admin.audit_log, "api-audit"),
    ("GET", "/api/v1/health", api.health, "api-health"),
    ("GET", "/api/v1/domains", health_api.domains, "api-domains"),
    ("GET", "/api/v1/domains/{domain}/health", health_api.domain_health, "api-domain-health"),
    ("POST", "/api/v1/events/dovecot", events_api.dovecot, "events-dovecot"),
    ("GET", "/login", login.login_form, "login"),
    ("POST", "/login", login.login, "login-post"),
    ("POST", "/logout", login.logout, "logout"),
    ("GET", "/support/", views.search, "support-search"),
    ("GET", "/support", views.search, "support-search-bare"),
    ("GET", "/support/mailbox/{email}", views.mailbox, "support-mailbox"),
    ("POST", "/support/mailbox/{email}/probe", views.probe, "support-probe"),
    ("POST", "/support/mailbox/{email}/notice", views.notice, "support-notice"),
    ("GET", "/support/incidents", views.incidents, "support-incidents"),
    ("GET", "/support/dashboard", dashboard.dashboard, "support-dashboard"),
    ("GET", "/static/{name}", assets.static, "static"),
    ("GET", "/healthz", health.healthz, "healthz"),
    ("GET", "/readyz", health.readyz, "readyz"),
    ("GET", "/metrics", health.metrics, "metrics"),
)

# Paths clients send in varying case (Outlook: /Autodiscover/Autodiscover.xml).
CASELESS_PREFIXES = ("/autodiscover/", "/mail/", "/.well-known/", "/apple/", "/v1.1/")


def add_routes(app: web.Application, observer: Observer) -> None:
    """Register the table, each handler in the observer's frame, then the fallback route."""
    raw: dict[str, Handler] = {}
    for method, path, handler, name in ROUTES:
        raw[name] = handler
        wrapped = observer.wrap(handler, name)
        if method == "GET":  # HEAD too: link checkers and proxies probe with it
            app.router.add_get(path, wrapped, name=name, allow_head=True)
        else:
            app.router.add_route(method, path, wrapped, name=name)
    fallback = observer.wrap(make_fallback(raw, CASELESS_PREFIXES), UNMATCHED)
    app.router.add_route("*", r"/{tail:[\s\S]*}", fallback, name=UNMATCHED)
