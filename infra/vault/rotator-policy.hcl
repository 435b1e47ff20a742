# Vault policy of the rotator: the identity the rotate function uses to issue
# a new AppRole secret_id and to destroy the one it replaced.
#
# `npm run vault:bootstrap` writes it as `vault-renewer-rotator`, with two
# stanzas per managed role appended below the last line (every target whose
# AppRole secret the config rotates):
#
#   path "auth/<mount>/role/<role>/secret-id" { capabilities = ["update"] }
#   path "auth/<mount>/role/<role>/secret-id-accessor/destroy" { capabilities = ["update"] }
#
# and adds it to the rotator target's AppRole role, beside the workload policy
# every target gets (renew and look up its own token), so the renewer keeps
# the rotator's token alive like any target's. Never a wildcard, never root,
# and nothing else: the rotator cannot read a role, its role_id, a secret_id's
# metadata, any secret or any lease.
