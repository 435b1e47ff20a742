# Vault policy of a workload token that vault-renewer keeps alive.
#
# Attach it to the workload's AppRole role, next to the workload's own policies
# (what the application reads). `npm run vault:bootstrap -- <target>` writes it
# as `vault-renewer-<target>`, with two kinds of stanza appended below the last
# line: `update` on auth/<mount>/role/<role>/secret-id/lookup for the target's
# own role (the renewer looks up the stored secret_id every run and warns
# before it expires), and `read` on each lease re-issue path of the target;
# and adds it to the role's token_policies.
#
# Each path is what the renewer (functions/vault/client.ts) calls with the
# workload's own token, and nothing more. The default policy grants most of
# these too, but operators edit the default policy and roles set
# token_no_default_policy=true, and then renewal fails with 403 (vault#22575):
# this policy does not depend on it.
#
# Deliberately NOT granted: auth/token/renew and renew-accessor (no token
# renews another), sys/leases/revoke, LIST sys/leases/lookup/* (needs sudo),
# anything under auth/<mount>/role but the secret-id/lookup of the target's
# own role.

# Renew the token itself, every scheduled run (POST, so `update`).
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Read the token's TTL, policies, type and renewable flag: verifies a fresh
# token after each login, tells a root or batch token apart, dry runs, diagnose.
# The renewer calls it with GET, which needs `read`.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Renew the leases this token created (dynamic database credentials and the
# like); the lease id is in the request body, so no wildcard is needed.
path "sys/leases/renew" {
  capabilities = ["update"]
}

# Look a lease up without renewing it (dry runs, diagnose); POST with the lease
# id in the body, so `update`.
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Revoke a token a login replaced, with the old token itself, once consumers
# had the grace period to read the new one (`retireReplaced` in the config;
# the old token's leases, already re-issued under the new one, go with it).
# Without it replaced tokens live until their own TTL ends.
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Ask Vault which capabilities this token holds on the paths above: the
# diagnose function reports a missing one with the stanza that fixes it.
path "sys/capabilities-self" {
  capabilities = ["update"]
}
