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

One setting: moto's Lambda backend runs without Docker (moto's own
`lambda.use_docker = false`), so RotateSecret accepts a rotation function
registered with moto's CreateFunction. moto then answers its invocations
without running any code; tests invoke the rotation handler per step
themselves, as Secrets Manager would.
"""

import json
import sys

from moto.core.config import default_user_config
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

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
