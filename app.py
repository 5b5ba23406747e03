"""The Chalice app: registers Blueprints, middleware and event handlers, nothing else."""

from chalice import Chalice

from chalicelib.api.auth import auth, authorizer_bp
from chalicelib.api.cards import cards_api
from chalicelib.api.health import health
from chalicelib.api.links import links
from chalicelib.api.middleware import request_log
from chalicelib.api.premiums import premiums_api
from chalicelib.jobs.expiry import expiry_jobs
from chalicelib.jobs.hr_files import hr_files
from chalicelib.jobs.ledger import ledger_checks
from chalicelib.jobs.outbound import outbound
from chalicelib.jobs.payments import payment_jobs

app = Chalice(app_name="insure")
app.register_middleware(request_log, "http")
app.register_blueprint(authorizer_bp)
app.register_blueprint(health)
app.register_blueprint(auth)
app.register_blueprint(links)
app.register_blueprint(premiums_api)
app.register_blueprint(cards_api)
app.register_blueprint(hr_files)
app.register_blueprint(expiry_jobs)
app.register_blueprint(outbound)
app.register_blueprint(payment_jobs)
app.register_blueprint(ledger_checks)
