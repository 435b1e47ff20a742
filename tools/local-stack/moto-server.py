"""moto in server mode, with one correction to its Secrets Manager staging labels.

Started by tools/local-stack/moto.ts instead of moto's own `moto_server`
script; the command-line arguments are moto's.

The correction. On AWS the current version of a secret is the one that
carries the AWSCURRENT label: a read that names neither VersionId nor
VersionStage (GetSecretValue, BatchGetSecretValue) returns it, and a new
version written without stages takes the label from it (which then becomes
AWSPREVIOUS). moto 5.2.5 (moto/secretsmanager/models.py) keeps the current
version in a separate attribute, `FakeSecret.default_version_id`, which
`update_secret_version_stage` never updates and `rotate_secret` points at the
new AWSPENDING placeholder. So after a rotation's finishSecret moves
AWSCURRENT, moto keeps serving the old value; while a rotation is pending it
serves nothing, and a PutSecretValue relabels the pending version AWSPREVIOUS.
Here `default_version_id` is derived from the AWSCURRENT label (moto's stored
value only while no version carries it), and RotateSecret, which answered
with that attribute, answers with the id of the version it created, as AWS
does. Nothing else is changed.

An addition. moto has no STS GetWebIdentityToken (IAM outbound identity
federation, aws-facts "Added 2026-12-06"). Here it signs tokens with keys
this process generates (RSA for RS256, P-384 for ES384), with the claims
AWS documents, and serves the issuer's discovery document and keys under
/_local_sts on moto's own port: OpenBao's jwt auth method trusts that
issuer as it would the account's. POST /_local_sts/settings turns
federation off (OutboundWebIdentityFederationDisabledException), withholds
the keys (503, as an issuer Vault cannot reach), throttles the next calls
(Throttling), or sets the caller's role ARN (the `sub` claim; moto
cannot tell which role a Lambda runs as).

One setting: moto's Lambda backend runs without Docker (moto's own
`lambda.use_docker = false`), so RotateSecret accepts a rotation function
registered with moto's CreateFunction. moto then answers its invocations
without running any code; tests invoke the rotation handler per step
themselves, as Secrets Manager would.
"""

import base64
import json
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sts.exceptions import STSClientError
from moto.sts.responses import TokenResponse

from moto.core.config import default_user_config
from moto.core.responses import ActionResult
from moto.secretsmanager.exceptions import InvalidRequestException
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

CURRENT = "AWSCURRENT"
STORED = "_stored_default_version_id"


def _default_version_id(secret):
    for version_id, version in getattr(secret, "versions", {}).items():
        if CURRENT in version.get("version_stages", []):
            return version_id
    return secret.__dict__.get(STORED)


def _set_default_version_id(secret, version_id):
    secret.__dict__[STORED] = version_id


FakeSecret.default_version_id = property(_default_version_id, _set_default_version_id)

_moto_rotate_secret = SecretsManagerBackend.rotate_secret


def rotate_secret(self, secret_id, client_request_token=None, rotation_lambda_arn=None, *args, **kwargs):
    before = set()
    if self._is_valid_identifier(secret_id):
        secret = self.secrets[secret_id]
        before = set(secret.versions)
        # AWS rotates a secret with the configuration it stored, and refuses one
        # with none; moto forgets the stored function and moves the labels anyway.
        stored = getattr(secret, "rotation_lambda_arn", "") or ""
        if not rotation_lambda_arn and not stored:
            raise InvalidRequestException(
                "No Lambda rotation function ARN is associated with this secret."
            )
        rotation_lambda_arn = rotation_lambda_arn or stored
    answer = json.loads(
        _moto_rotate_secret(self, secret_id, client_request_token, rotation_lambda_arn, *args, **kwargs)
    )
    created = [v for v in self.secrets[secret_id].versions if v not in before]
    if created:
        answer["VersionId"] = created[0]
    return json.dumps(answer)


SecretsManagerBackend.rotate_secret = rotate_secret
default_user_config["lambda"]["use_docker"] = False

# --- STS GetWebIdentityToken and its issuer ----------------------------------

ISSUER_PATH = "/_local_sts"
AWS_CLAIMS = "https://sts.amazonaws.com/"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(value, length=None):
    length = length or (value.bit_length() + 7) // 8
    return _b64url(value.to_bytes(length, "big"))


class LocalIssuer:
    """The account's outbound identity federation, as far as the stack needs it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP384R1())
        self.federation = True
        self.keys = True
        self.throttle = 0
        self.subject = "arn:aws:iam::123456789012:role/vault-renewer-local-renew"
        self.port = None

    def url(self, host):
        return f"http://{host}{ISSUER_PATH}"

    def jwks(self):
        rsa_numbers = self.rsa.public_key().public_numbers()
        ec_numbers = self.ec.public_key().public_numbers()
        return {
            "keys": [
                {"kty": "RSA", "kid": "RSA_0", "use": "sig", "alg": "RS256",
                 "n": _int_b64url(rsa_numbers.n), "e": _int_b64url(rsa_numbers.e)},
                {"kty": "EC", "kid": "EC384_0", "use": "sig", "alg": "ES384", "crv": "P-384",
                 "x": _int_b64url(ec_numbers.x, 48), "y": _int_b64url(ec_numbers.y, 48)},
            ]
        }

    def discovery(self, issuer):
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES384"],
        }

    def sign(self, claims, algorithm):
        kid = "RSA_0" if algorithm == "RS256" else "EC384_0"
        header = {"alg": algorithm, "kid": kid, "typ": "JWT"}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        if algorithm == "RS256":
            signature = self.rsa.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(self.ec.sign(signing_input.encode(), ec.ECDSA(hashes.SHA384())))
            signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
        return f"{signing_input}.{_b64url(signature)}"


ISSUER = LocalIssuer()


def get_web_identity_token(self):
    with ISSUER.lock:
        if not ISSUER.federation:
            raise STSClientError(
                "OutboundWebIdentityFederationDisabledException",
                "Outbound web identity federation is disabled for this account.",
            )
        if ISSUER.throttle > 0:
            ISSUER.throttle -= 1
            raise STSClientError("Throttling", "Rate exceeded")
    audience = self._get_param("Audience") or []
    algorithm = self._get_param("SigningAlgorithm")
    duration = self._get_int_param("DurationSeconds", 300)
    tags = self._get_param("Tags") or []
    if not 1 <= len(audience) <= 10:
        raise STSClientError("ValidationError", "Audience must have between 1 and 10 values.")
    if algorithm not in ("RS256", "ES384"):
        raise STSClientError("ValidationError", "SigningAlgorithm must be RS256 or ES384.")
    if not 60 <= duration <= 3600:
        raise STSClientError("ValidationError", "DurationSeconds must be between 60 and 3600.")
    now = int(time.time())
    host = self.headers.get("Host", f"127.0.0.1:{ISSUER.port}")
    claims = {
        "iss": ISSUER.url(host),
        "aud": audience[0] if len(audience) == 1 else audience,
        "sub": ISSUER.subject,
        "iat": now,
        "nbf": now,
        "exp": now + duration,
        "jti": str(uuid.uuid4()),
        AWS_CLAIMS: {
            "aws_account": self.current_account,
            "source_region": self.region,
            "principal_tags": {},
            "request_tags": {t["Key"]: t["Value"] for t in tags},
        },
    }
    expiration = datetime.fromtimestamp(now + duration, tz=timezone.utc)
    return ActionResult(
        {"WebIdentityToken": ISSUER.sign(claims, algorithm), "Expiration": expiration}
    )


TokenResponse.get_web_identity_token = get_web_identity_token

_moto_dispatch = DomainDispatcherApplication.__call__


def _json_answer(start_response, status, body):
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def dispatch(self, environ, start_response):
    path = environ.get("PATH_INFO", "")
    if not path.startswith(ISSUER_PATH + "/"):
        return _moto_dispatch(self, environ, start_response)
    issuer = ISSUER.url(environ.get("HTTP_HOST", f"127.0.0.1:{ISSUER.port}"))
    route = path[len(ISSUER_PATH):]
    if environ.get("REQUEST_METHOD") == "GET" and route == "/.well-known/openid-configuration":
        return _json_answer(start_response, "200 OK", ISSUER.discovery(issuer))
    if environ.get("REQUEST_METHOD") == "GET" and route == "/.well-known/jwks.json":
        if not ISSUER.keys:
            return _json_answer(start_response, "503 Service Unavailable", {"error": "keys withheld"})
        return _json_answer(start_response, "200 OK", ISSUER.jwks())
    if environ.get("REQUEST_METHOD") == "POST" and route == "/settings":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        settings = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with ISSUER.lock:
            ISSUER.federation = settings.get("federation", ISSUER.federation)
            ISSUER.keys = settings.get("keys", ISSUER.keys)
            ISSUER.throttle = settings.get("throttle", ISSUER.throttle)
            ISSUER.subject = settings.get("subject", ISSUER.subject)
            answer = {
                "federation": ISSUER.federation,
                "keys": ISSUER.keys,
                "throttle": ISSUER.throttle,
                "subject": ISSUER.subject,
            }
        return _json_answer(start_response, "200 OK", answer)
    return _json_answer(start_response, "404 Not Found", {"error": "not found"})


DomainDispatcherApplication.__call__ = dispatch


if __name__ == "__main__":
    from moto.server import main

    if "-p" in sys.argv:
        ISSUER.port = sys.argv[sys.argv.index("-p") + 1]

    sys.exit(main())
