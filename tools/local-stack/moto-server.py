"""moto in server mode, with one correction to its Secrets Manager staging labels.

Started by tools/local-stack/moto.ts instead of moto's own `moto_server`
script; the command-line arguments are moto's.

The correction. On AWS, a read that names neither VersionId nor VersionStage
(GetSecretValue, BatchGetSecretValue) returns the version that carries the
AWSCURRENT label. moto 5.2.5 answers such a read from
`FakeSecret.default_version_id` (moto/secretsmanager/models.py), an attribute
that `update_secret_version_stage` never updates and that `rotate_secret`
points at the new AWSPENDING placeholder. So after a rotation's finishSecret
moves AWSCURRENT, moto keeps serving the old value, and while a rotation is
pending it serves nothing. Here `default_version_id` is derived from the
AWSCURRENT label, as AWS does; it falls back to moto's stored value only
while no version carries the label. Nothing else is changed.

One setting: moto's Lambda backend runs without Docker (moto's own
`lambda.use_docker = false`), so RotateSecret accepts a rotation function
registered with moto's CreateFunction. moto then answers its invocations
without running any code; tests invoke the rotation handler per step
themselves, as Secrets Manager would.
"""

import sys

from moto.core.config import default_user_config
from moto.secretsmanager.models import FakeSecret

CURRENT = "AWSCURRENT"


def _default_version_id(secret):
    for version_id, version in getattr(secret, "versions", {}).items():
        if CURRENT in version.get("version_stages", []):
            return version_id
    return secret.__dict__.get("_stored_default_version_id")


def _set_default_version_id(secret, version_id):
    secret.__dict__["_stored_default_version_id"] = version_id


FakeSecret.default_version_id = property(_default_version_id, _set_default_version_id)
default_user_config["lambda"]["use_docker"] = False

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
