"""The floor of a cold login and a cold authorizer: chalice + boto3 + pynamodb, nothing else.

bench/cold_start.py runs this in place of the real app.py, from the same unpacked zip, so the
only difference is the app. It makes the AWS requests the real ones make, in the same order
(the bench checks the counts match): a login reserves a password check on the name's throttle
item, reads the login name and the account, gives the check back, reads the signing key's secret
(current, then previous) and stores a session; the authorizer reads the signing key's secret.
It does none of the app's own work: no argon2, no Ed25519, no JWT, no validation or envelope.
"""

import contextlib
import functools
import json
import os
import time
import uuid

import boto3
from chalice import AuthResponse, Chalice, Response
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

app = Chalice(app_name="floor")
REGION = os.environ["AWS_DEFAULT_REGION"]
SIGNING_SECRET = os.environ.get("SECRETS_PREFIX", "") + "jwt-signing"


class Throttle(Model):
    class Meta:
        table_name = os.environ["THROTTLES_TABLE"]
        region = REGION

    key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(null=True)


class Username(Model):
    class Meta:
        table_name = os.environ["USERNAMES_TABLE"]
        region = REGION

    username = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(null=True)


class Account(Model):
    class Meta:
        table_name = os.environ["ACCOUNTS_TABLE"]
        region = REGION

    account_id = UnicodeAttribute(hash_key=True)
    password_hash = UnicodeAttribute(null=True)


class Session(Model):
    class Meta:
        table_name = os.environ["SESSIONS_TABLE"]
        region = REGION

    session_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    expires_ttl = NumberAttribute()


@functools.cache
def signing_secret():
    manager = boto3.client("secretsmanager", region_name=REGION)
    values = [manager.get_secret_value(SecretId=SIGNING_SECRET)["SecretString"]]
    with contextlib.suppress(manager.exceptions.ResourceNotFoundException):  # never rotated
        values.append(manager.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSPREVIOUS")["SecretString"])
    return values[0]


@app.route("/v1/auth/login", methods=["POST"])
def login():
    body = app.current_request.json_body
    throttle = Throttle("login#" + body["username"])
    throttle.update(actions=[Throttle.count.set(1)], condition=Throttle.count.does_not_exist() | (Throttle.count < 5))
    try:
        name = Username.get(body["username"])
        account = Account.get(name.account_id)
    except DoesNotExist:
        return Response(body={"error": "INVALID_CREDENTIALS"}, status_code=401)
    throttle.update(actions=[Throttle.count.add(-1)])
    signing_secret()
    session = Session(uuid.uuid4().hex, account_id=account.account_id, expires_ttl=int(time.time()) + 3600)
    session.save(condition=Session.session_id.does_not_exist())
    return {"access_token": uuid.uuid4().hex, "refresh_token": uuid.uuid4().hex, "token_type": "Bearer"}


@app.authorizer()
def floor_authorizer(auth_request):
    signing_secret()
    token = (auth_request.token or "").partition(" ")[2]
    return AuthResponse(routes=["*"] if token else [], principal_id="floor")


@app.route("/v1/health")
def health():
    return json.dumps({"status": "ok"})
