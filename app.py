"""The Chalice app: registers Blueprints, middleware and event handlers, nothing else."""

from chalice import Chalice

from chalicelib.accounts import auth, authorizer_bp, expiry_jobs, link_pages
from chalicelib.cards import cards_api
from chalicelib.enrolment import hr_files
from chalicelib.health import health
from chalicelib.platform.app_links import app_links
from chalicelib.platform.middleware import request_log
from chalicelib.platform.outbound import outbound
from chalicelib.premiums import ledger_checks, payment_jobs, premiums_api
from chalicelib.providers import access_log_api, fhir_api
from chalicelib.wallet import wallet_api

# Logging is Powertools' (chalicelib/logs.py): Chalice's own handler on the "insure" logger would print
# every line a second time, unscrubbed, the traceback of an error included.
app = Chalice(app_name="insure", configure_logs=False)
app.register_middleware(request_log, "http")
app.register_blueprint(authorizer_bp)
app.register_blueprint(health)
app.register_blueprint(auth)
app.register_blueprint(link_pages)
app.register_blueprint(premiums_api)
app.register_blueprint(cards_api)
app.register_blueprint(fhir_api)
app.register_blueprint(access_log_api)
app.register_blueprint(wallet_api)
app.register_blueprint(app_links)
app.register_blueprint(hr_files)
app.register_blueprint(expiry_jobs)
app.register_blueprint(outbound)
app.register_blueprint(payment_jobs)
app.register_blueprint(ledger_checks)
